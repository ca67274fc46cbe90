import type { Octokit } from "./repository.js";
import type { RepoRef } from "../thread/text.js";

/** A user's permission on a repository, as GitHub's collaborator permission API reports it. */

/** Permissions that may command deploybot (maintain reads as write in `permission`). */
export const COMMANDING = new Set(["admin", "maintain", "write"]);

/** The user's permission (admin, write, read, none); asked every time, never cached. */
export async function permissionOf(octokit: Octokit, ref: RepoRef, login: string): Promise<string> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...ref, username: login });
    return data.permission;
  } catch (error) {
    // Not a collaborator at all (an outside user on a public repository).
    if (typeof error === "object" && error !== null && "status" in error && error.status === 404)
      return "none";
    throw error;
  }
}
