// Positional writes to an attached volume's block device. (Stub so helper E's branch compiles;
// helper C implements this file.)
export interface DeviceWriter {
  readonly path: string;
  readonly size: number;
  write(buf: Buffer, position: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function openDeviceWriter(_path: string): Promise<DeviceWriter> {
  throw new Error('stub: helper C implements this');
}
