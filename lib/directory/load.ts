import { readFile } from 'node:fs/promises';
import { Directory } from '../domain/directory.ts';
import seed from './new-chance.json' with { type: 'json' };

/** A directory that does not validate names the file, the record and the field. */
export class DirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectoryError';
  }
}

export function parseDirectory(raw: unknown, origin: string): Directory {
  const parsed = Directory.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const [collection, index, ...field] = issue.path;
    const records = (raw as Record<string, unknown[]> | undefined)?.[String(collection)];
    const record = typeof index === 'number' && Array.isArray(records) ? (records[index] as { id?: string } | undefined) : undefined;
    const where = typeof index === 'number' ? `${String(collection)}[${index}]${record?.id ? ` (id "${record.id}")` : ''}` : issue.path.join('.') || '(top level)';
    return `  ${where}${field.length ? ` field ${field.join('.')}` : ''}: ${issue.message}`;
  });
  return throwError(`Provider directory ${origin} is not valid:\n${lines.join('\n')}`);
}

function throwError(message: string): never {
  throw new DirectoryError(message);
}

export async function loadDirectoryFile(path: string): Promise<Directory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DirectoryError(`Cannot read provider directory ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DirectoryError(`Provider directory ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseDirectory(raw, path);
}

/** The illustrative seed of the four New Chance partners, bundled with the code. */
export function seedDirectory(): Directory {
  return parseDirectory(seed, 'lib/directory/new-chance.json');
}
