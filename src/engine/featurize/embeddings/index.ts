/** `embeddings:FILE` featurizer specs: precomputed per-row vectors (see featurizer.ts). */
import { UsageError } from '../../types';

export {
  createEmbeddingsFeaturizer,
  EmbeddingsFeaturizer,
  type EmbeddingsFeaturizerOptions,
  NO_TOKEN_VECTORS,
} from './featurizer';
export { COLUMN_OPTION, type ColumnChoice } from './columns';
export { EMBEDDING_EXTENSIONS, readEmbeddings } from './read';

/** The FILE of an `embeddings:FILE` spec, or undefined for other specs. */
export function embeddingsFileOf(spec: string | undefined): string | undefined {
  if (!spec?.startsWith('embeddings:')) return undefined;
  const file = spec.slice('embeddings:'.length).trim();
  if (!file)
    throw new UsageError('--featurizer embeddings:FILE needs a file (embeddings:path/to/vectors.parquet)');
  return file;
}
