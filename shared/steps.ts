/** Names of the steps a replication job records in its log: the engine writes them, the UI and CLI read them. */
export const REPLICATION_STEP = {
  provision: 'Provision volumes',
  attach: 'Attach volumes to the OMA appliance',
  export: 'Publish NBD exports',
  startCopy: 'Start the copy on the VMA',
  /** The copy itself, as shown from the VMA's phases. */
  copy: 'Copy on the VMA',
} as const;

/** The setup steps the engine runs, in order, before the VMA copies. */
export const SETUP_STEPS = [REPLICATION_STEP.provision, REPLICATION_STEP.attach, REPLICATION_STEP.export, REPLICATION_STEP.startCopy] as const;
