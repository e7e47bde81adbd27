/**
 * The JSON the environment service answers with, shaped like conda-store's REST API
 * (`{status, data}`, paginated lists with page/size/count, builds with
 * QUEUED/BUILDING/COMPLETED/FAILED/CANCELED). Types only: the CLI and `atrium
 * status` import them to read the answers.
 */
export type BuildStatus = "QUEUED" | "BUILDING" | "COMPLETED" | "FAILED" | "CANCELED";

export type NamespaceKind = "global" | "group" | "user";

export interface ApiNamespace {
  name: string;
  kind: NamespaceKind;
  /** Who may edit a group namespace's environments ("members" or "admins"); null elsewhere. */
  editors: "members" | "admins" | null;
  can_edit: boolean;
}

export interface ApiSpecification {
  name: string;
  /** The text as submitted: a conda-style environment.yaml or a requirement list. */
  spec: string;
  format: "environment.yaml" | "requirements";
  sha256: string;
  /** What is resolved: PEP 508 requirements derived from the spec (plus ipykernel and distributed). */
  requirements: string[];
  /** Requirements pinned to the platform's versions (dask, distributed). */
  constraints: string[];
  notes: string[];
}

export interface ApiBuild {
  id: number;
  environment_id: number;
  namespace: string;
  environment: string;
  status: BuildStatus;
  status_info: string | null;
  specification: ApiSpecification;
  scheduled_on: string;
  started_on: string | null;
  ended_on: string | null;
  /** Bytes on disk of the built environment. */
  size: number | null;
  /** Resolved packages (name==version), once the lock exists. */
  packages: string[];
  created_by: string;
  current: boolean;
}

export interface ApiEnvironment {
  id: number;
  namespace: { name: string; kind: NamespaceKind };
  name: string;
  description: string;
  current_build_id: number | null;
  current_build: ApiBuild | null;
  /** The newest build, whatever its status (shows a build in progress or a failure). */
  latest_build: ApiBuild | null;
  /** Jupyter kernel name, e.g. "alice.mine". */
  kernel: string;
  /** dask-gateway's name for it as a worker environment. */
  dask_environment: string;
  /** <env>/current/bin once a build succeeded. */
  prefix: string;
}

export interface ApiOk<T> {
  status: "ok";
  data: T;
  message?: string;
}

export interface ApiPage<T> {
  status: "ok";
  data: T[];
  page: number;
  size: number;
  count: number;
}

export interface ApiError {
  status: "error";
  message: string;
}
