import type { Session } from "../api";
import type { Route } from "../router";

export interface Mounted {
  cleanup?: () => void;
  /** the same view, another query (filters): no remount, focus stays where it is */
  update?: (route: Route) => void;
}

export interface Context {
  session: Session;
  route: Route;
}

export type View = (main: HTMLElement, context: Context) => Mounted | void;
