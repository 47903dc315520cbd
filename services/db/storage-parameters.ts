/**
 * Table storage parameters, the part of the physical schema that schema.prisma cannot express.
 * A migration sets each of them (prisma/migrations/*_jobs_fillfactor); the drift test applies
 * this list to the database it builds from schema.prisma, so a value changed here without a
 * migration, or a migration without a change here, fails it.
 */
export const TABLE_STORAGE_PARAMETERS = {
  // 15% of each page is kept free for the updates that do not change an indexed column (the
  // outbox's `published` mark after a state change): they become HOT updates, written on the
  // same page with no index write, instead of a new tuple on another page.
  jobs: { fillfactor: 85 },
} as const satisfies Record<string, Record<string, number>>;

/** The ALTER TABLE statements that set TABLE_STORAGE_PARAMETERS. */
export function storageParametersSql(): string {
  return Object.entries(TABLE_STORAGE_PARAMETERS)
    .map(([table, params]) => {
      const settings = Object.entries(params).map(([name, value]) => `${name} = ${value}`);
      return `ALTER TABLE "${table}" SET (${settings.join(", ")});`;
    })
    .join("\n");
}
