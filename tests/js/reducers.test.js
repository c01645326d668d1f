// The reducers that ship, fed the consistency scenario recorded against the real server
// (tests/integration/test_js_reducers.py writes the fixture and runs this file; alone, it
// uses the copy in fixtures/). For each screen: its first snapshot plus every broadcast it
// received must equal a fresh snapshot at every checkpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { boardView, emptyBoard, reduceBoard } from "../../static/js/board-state.js";
import { emptyOverview, overviewView, reduceOverview } from "../../static/js/overview-state.js";

const path = process.env.PLENARY_FIXTURE || new URL("./fixtures/consistency.json", import.meta.url);
const fixture = JSON.parse(readFileSync(path, "utf8"));

/** Frozen all the way down: a reducer that changed its input would throw. */
function deepFreeze(o) {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const KINDS = {
  board: { reduce: reduceBoard, empty: emptyBoard, view: boardView },
  overview: { reduce: reduceOverview, empty: emptyOverview, view: overviewView },
};

for (const [name, viewer] of Object.entries(fixture.viewers)) {
  test(`${name}: snapshot + every broadcast == fresh snapshot`, () => {
    const { reduce, empty, view } = KINDS[viewer.kind];
    const at = 0;
    let state = reduce(empty(), deepFreeze({ type: "snapshot", ack: viewer.first, at }));
    for (const id of viewer.own) state = reduce(state, { type: "own", id });
    assert.ok(viewer.checks.length >= 5, "the scenario has its checkpoints");
    viewer.checks.forEach((check, i) => {
      for (const action of check.actions) state = reduce(deepFreeze(state), deepFreeze({ ...action, at }));
      let fresh = reduce(empty(), { type: "snapshot", ack: check.fresh, at });
      for (const id of viewer.own) fresh = reduce(fresh, { type: "own", id });
      assert.deepEqual(view(state), view(fresh), `checkpoint ${i + 1} of ${name}`);
    });
  });
}
