import { SCREENS, uiActions, useUi } from '../store/ui-store';

export function Sidebar() {
  const screen = useUi((s) => s.screen);
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark">MK</span>
        <span className="brand-name">MigrateKit Console</span>
      </div>
      <ul>
        {SCREENS.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className={screen === s.id ? 'nav-item active' : 'nav-item'}
              aria-current={screen === s.id ? 'page' : undefined}
              data-screen={s.id}
              onClick={() => uiActions.navigate(s.id)}
            >
              {s.label}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
