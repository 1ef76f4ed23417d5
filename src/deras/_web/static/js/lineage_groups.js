// Folding the large groups of the lineage graph: a group of more than FOLD_OVER assets is drawn
// as one node (its name, its count, its worst state) while the view is zoomed out; zooming in
// past UNFOLD_ZOOM, or clicking the group's node, draws its assets again. Edges into and out of
// a folded group join at its node; edges inside it are not drawn.

export const FOLD_OVER = 50;
export const UNFOLD_ZOOM = 0.6;
// Worst first: a group with one failed asset is failed, then one running, then one missing.
const BADNESS = { failed: 3, in_progress: 2, missing: 1, materialized: 0 };

export class GroupFolding {
  constructor(layout) {
    this.layout = layout;
    this.n = layout.nodes.key.length;
    this.members = layout.groups.map(() => []);
    layout.nodes.group.forEach((g, i) => this.members[g].push(i));
    this.folded = new Set(this.members.flatMap((m, g) => (m.length > FOLD_OVER ? [g] : [])));
    this.cache = null;
    const { x, y } = layout.nodes;
    const w = layout.node_width * 1.3;
    const h = layout.node_height * 1.6;
    // a group's node sits at the middle of its assets (which it hides)
    this.boxes = this.members.map((m) => {
      if (!m.length) return null;
      let cx = 0;
      let cy = 0;
      for (const i of m) {
        cx += x[i];
        cy += y[i];
      }
      cx = cx / m.length + layout.node_width / 2;
      cy = cy / m.length + layout.node_height / 2;
      return { x: cx - w / 2, y: cy - h / 2, w, h };
    });
  }

  // The groups drawn folded at zoom k.
  foldedAt(k) {
    return k < UNFOLD_ZOOM ? this.folded : new Set();
  }

  unfold(g) {
    this.folded.delete(g);
    this.cache = null;
  }

  // What to draw at zoom k: `hidden[i]` for an asset inside a folded group, the folded groups,
  // and the edges as [from, to, edge index or -1] where a node n + g is group g's node.
  scene(k) {
    const folded = this.foldedAt(k);
    const key = [...folded].sort().join(",");
    if (this.cache && this.cache.key === key) return this.cache;
    const { group } = this.layout.nodes;
    const hidden = new Uint8Array(this.n);
    for (const g of folded) for (const i of this.members[g]) hidden[i] = 1;
    const at = (i) => (hidden[i] ? this.n + group[i] : i);
    const seen = new Set();
    const edges = [];
    this.layout.edges.forEach(([u, v], e) => {
      if (!hidden[u] && !hidden[v]) {
        edges.push([u, v, e]);
        return;
      }
      const a = at(u);
      const b = at(v);
      if (a === b || seen.has(`${a}>${b}`)) return;
      seen.add(`${a}>${b}`);
      edges.push([a, b, -1]);
    });
    this.cache = { key, hidden, edges, groups: [...folded].sort((a, b) => a - b) };
    return this.cache;
  }

  // A folded group's state: the worst of its assets', and how many failing checks they have.
  state(g, statuses) {
    let worst = "materialized";
    let failing = 0;
    for (const i of this.members[g]) {
      const status = statuses[this.layout.nodes.key[i]];
      const state = status ? status[0] : "missing";
      if ((BADNESS[state] ?? 1) > BADNESS[worst]) worst = state;
      failing += status ? status[2] : 0;
    }
    return [worst, failing];
  }
}
