// The block device an attached volume appeared as, found by its id. (Stub so helper E's branch
// compiles; helper C implements this file.)
export async function findAttachedDevice(
  _volumeId: string,
  _o: {
    deviceDir: string;
    sysBlockDir?: string;
    timeoutMs: number;
    signal?: AbortSignal;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<string> {
  throw new Error('stub: helper C implements this');
}
