// Routes a key to a partition with a stable hash (FNV-1a, 32 bit) so a key always lands in one place.

export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function partitionFor(key: string | null | undefined, partitions: number, sequence: number): number {
  if (partitions <= 1) return 0;
  if (key === null || key === undefined) return sequence % partitions;
  return hashKey(key) % partitions;
}
