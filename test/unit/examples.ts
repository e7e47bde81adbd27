/** The examples whose renders are kept as golden files. */
export const EXAMPLES = ["quickstart", "team", "team-kubernetes"] as const;
