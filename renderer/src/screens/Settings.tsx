import type { ReactNode } from 'react';
import { AppliancesSection } from './SettingsAppliances';
import { CredentialsSection } from './SettingsCredentials';
import { CloudStackSection } from './SettingsCloudStack';
import { SecretsSection } from './SettingsSecrets';
import { useInvoke } from '../lib/use-invoke';

function Card({ title, children, id }: { title: string; children: ReactNode; id: string }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function SettingsScreen() {
  const info = useInvoke('app:info', {});
  return (
    <div className="screen-pad settings">
      <Card title="Appliances" id="settings-appliances">
        <AppliancesSection />
      </Card>
      <Card title="vCenter credentials" id="settings-credentials">
        <CredentialsSection />
      </Card>
      <Card title="CloudStack" id="settings-cloudstack">
        <CloudStackSection />
      </Card>
      <Card title="Secret store" id="settings-secrets">
        <SecretsSection />
      </Card>
      {info.result?.ok && (
        <p className="muted small about">
          MigrateKit Console {info.result.value.version} · data in {info.result.value.dataDir} · schema v{info.result.value.schemaVersion} ·{' '}
          {info.result.value.schedulesActive ? 'schedules active while the console runs' : 'schedules not running'}
        </p>
      )}
    </div>
  );
}
