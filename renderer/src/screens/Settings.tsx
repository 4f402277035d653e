import type { ReactNode } from 'react';
import { AppliancesSection } from './SettingsAppliances';
import { CredentialsSection } from './SettingsCredentials';
import { CloudStackSection } from './SettingsCloudStack';
import { SecretsSection } from './SettingsSecrets';
import { AboutSection, DesktopSection } from './SettingsDesktop';

function Card({ title, children, id }: { title: string; children: ReactNode; id: string }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function SettingsScreen() {
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
      <Card title="Desktop" id="settings-desktop">
        <DesktopSection />
      </Card>
      <Card title="About" id="settings-about">
        <AboutSection />
      </Card>
    </div>
  );
}
