/** The examples whose renders are kept as golden files. */
export const LOCAL_EXAMPLES = ["quickstart", "team"] as const;
export const KUBERNETES_EXAMPLES = ["team-kubernetes"] as const;
export const EXAMPLES = [...LOCAL_EXAMPLES, ...KUBERNETES_EXAMPLES] as const;
