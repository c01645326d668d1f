// What the console and the dashboard share: the event's overview as one state, changed
// only by reduceOverview (overview-state.js), fed by the one connection (connection.js).
import { connect } from "./connection.js";
import { createStore } from "./dom.js";
import { emptyOverview, latestNotes, reduceOverview, summaryOf, tableLocked, topIdeas } from "./overview-state.js";
import { remainingMs } from "./rules.js";

/** Watch every table of the event. opts: auth, onAction(state, action), onFatal(err). */
export function watchEvent(opts) {
  const board = createStore(reduceOverview, emptyOverview(), opts.onAction);
  const conn = connect({ scope: "event", auth: opts.auth, dispatch: (a) => board.dispatch(a), onFatal: opts.onFatal });
  const S = () => board.state;
  const live = {
    conn,
    socket: conn.socket,
    request: conn.request,
    sync: conn.sync,
    get state() { return board.state; },
    /** A newer copy of the event (a live control's acknowledgement carries one). */
    takeEvent: (event) => board.dispatch({ type: "event", event }),
    tables: () => Object.values(S().tables),
    now: () => Date.now() + S().offset,
    remaining: () => remainingMs(S().event, S().offset, Date.now()),
    locked: (t) => tableLocked(S(), t),
    top: (id) => topIdeas(S(), id),
    latest: (id) => latestNotes(S(), id),
    summary: (id) => summaryOf(S(), id),
  };
  globalThis.plenary = { socket: conn.socket, get state() { return board.state; }, live };
  return live;
}
