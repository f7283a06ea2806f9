// The operations an operator starts by name: the dashboard's buttons and the command
// palette list the same ones, so a palette entry is never an operation the dashboard
// would not offer.
import type { Operation } from "./bindings";

export type Action = { label: string; operation: Operation; testid: string };

export const PROJECT_ACTIONS: Action[] = [
  { label: "Pull images", operation: { op: "pull" }, testid: "action-pull" },
  { label: "Deploy (up -d)", operation: { op: "up" }, testid: "action-up" },
  { label: "Git pull", operation: { op: "git_pull" }, testid: "action-git-pull" },
  { label: "Health", operation: { op: "health" }, testid: "action-health" },
  { label: "Stop all", operation: { op: "stop", service: null }, testid: "action-stop-all" },
  { label: "Down", operation: { op: "down" }, testid: "action-down" },
];

/** Restart each service, one entry per service. */
export function serviceActions(services: string[]): Action[] {
  return services.map((service) => ({
    label: `Restart ${service}`,
    operation: { op: "restart", service },
    testid: `action-restart-${service}`,
  }));
}
