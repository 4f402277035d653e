// Issue "Failover": the operator's choices for a failover and its rollback (live power-off timeout,
// final sync on/off, the source's fate on failure, MAC addresses, power-on at rollback) are kept
// with the failover, so a restarted owner compensates or rolls back as the operator chose.
export const migration008 = `
ALTER TABLE failovers ADD COLUMN options_json TEXT NOT NULL DEFAULT '{}';
`;
