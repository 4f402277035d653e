// "Add to group": a group picker loaded when the selection is not empty, and an Add button.
import { useId, useState } from 'react';
import { useInvoke } from '../../lib/use-invoke';

export function AddToGroup({ disabled, onAdd }: { disabled: boolean; onAdd: (groupId: string, groupName: string) => void }) {
  const groups = useInvoke('groups:list', disabled ? null : {});
  const [groupId, setGroupId] = useState('');
  const selectId = useId();
  const list = groups.result?.ok ? groups.result.value.map((g) => g.group) : [];
  const picked = list.find((g) => g.id === groupId) ?? null;
  return (
    <span className="bulk-menu">
      <label htmlFor={selectId} className="sr-only">
        Machine group
      </label>
      <select id={selectId} value={groupId} disabled={disabled || list.length === 0} onChange={(e) => setGroupId(e.target.value)} data-testid="bulk-group">
        <option value="">{list.length === 0 && !disabled ? 'No groups yet' : 'Group…'}</option>
        {list.map((g) => (
          <option key={g.id} value={g.id}>
            {g.name}
          </option>
        ))}
      </select>
      <button type="button" className="btn small" disabled={disabled || !picked} onClick={() => picked && onAdd(picked.id, picked.name)}>
        Add to group
      </button>
    </span>
  );
}
