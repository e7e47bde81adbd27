/** What plan says about one component, in the deploy vocabulary (create | update | replace | delete | same). */
export type ChangeKind = "create" | "update" | "replace" | "delete" | "same";

export interface Change {
  component: string;
  title: string;
  kind: ChangeKind;
  reason?: string;
  /** What changes inside the component, one line each ("users: add dave"). */
  details?: string[];
  /** What deploy will skip in this component, and why. */
  warnings?: string[];
}
