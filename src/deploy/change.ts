/** What plan says about one component, in the deploy vocabulary (create | update | replace | delete | same). */
export type ChangeKind = "create" | "update" | "replace" | "delete" | "same";

/** What plan's online step found for the change, where the target has one (see Target.preview). */
export interface OnlineDetails {
  /** Field by field: what is there now against what the change makes of it. */
  fields: string[];
  /** What the change restarts or affects, one line each. */
  effects: string[];
  /** Why it could not be previewed, or what the place refuses in it. */
  problem?: string;
}

export interface Change {
  component: string;
  title: string;
  kind: ChangeKind;
  reason?: string;
  /** What changes inside the component, one line each ("users: add dave"). */
  details?: string[];
  /** What deploy will skip in this component, and why. */
  warnings?: string[];
  online?: OnlineDetails;
}

/** Plan's online step as a whole: absent for a target that has none. */
export interface OnlineStep {
  ran: boolean;
  /** One line: what was asked, or why the step was skipped. */
  note: string;
}

export interface Plan {
  changes: Change[];
  online?: OnlineStep;
}
