/**
 * The layers of src/, lowest first (docs/architecture.md draws the same picture): a module may
 * import from its own folder and from any lower layer; folders of one layer do not import each
 * other. `.` is src/ itself: the package's entry points.
 */
export interface Layer {
  readonly rank: number;
  readonly name: string;
  readonly folders: readonly string[];
}

export const LAYERS: readonly Layer[] = [
  { rank: 0, name: 'core', folders: ['core'] },
  { rank: 1, name: 'state', folders: ['state'] },
  { rank: 2, name: 'metrics', folders: ['metrics'] },
  { rank: 3, name: 'ingest and rules', folders: ['ingest', 'rules'] },
  { rank: 4, name: 'alerts and http', folders: ['alerts', 'http'] },
  { rank: 5, name: 'plugin assembly', folders: ['plugin'] },
  { rank: 6, name: 'entry points', folders: ['.'] },
];

/** The layer of a path relative to src/ (e.g. `rules/checks.ts`). */
export function layerOf(file: string): Layer | undefined {
  if (file.startsWith('../')) return undefined;
  const folder = file.includes('/') ? file.split('/')[0]! : '.';
  return LAYERS.find((layer) => layer.folders.includes(folder));
}
