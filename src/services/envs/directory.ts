/**
 * The hub's users and groups, read with the service's own token (scopes list:users,
 * read:users:name, read:users:groups, list:groups, read:groups:name) and refreshed
 * periodically, so group changes made by a deploy reach kernels and Dask without a
 * restart. The hub is the authority: it also knows users who log in through a provider.
 */
import type { Directory } from "./permissions.js";

const PAGE = 200;

export class HubDirectory {
  current: Directory = { users: new Map(), groups: new Set() };
  private signature = "";

  constructor(
    private readonly hubApiUrl: string,
    private readonly token: string,
  ) {}

  private async page<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const res = await fetch(`${this.hubApiUrl}${path}?offset=${offset}&limit=${PAGE}`, {
        headers: { Authorization: `token ${this.token}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`the hub answered ${res.status} to GET ${path}`);
      const items = (await res.json()) as T[];
      out.push(...items);
      if (items.length < PAGE) return out;
    }
  }

  /** Read users and groups again; true when anything changed. */
  async refresh(): Promise<boolean> {
    const users = await this.page<{ name: string; admin?: boolean; groups?: string[] }>("/users");
    const groups = await this.page<{ name: string }>("/groups");
    const next: Directory = {
      users: new Map(
        users.map((u) => [u.name, { admin: u.admin === true, groups: [...(u.groups ?? [])].sort() }]),
      ),
      groups: new Set(groups.map((g) => g.name)),
    };
    const signature = JSON.stringify([[...next.users].sort(), [...next.groups].sort()]);
    const changed = signature !== this.signature;
    this.current = next;
    this.signature = signature;
    return changed;
  }
}
