// Glance v2 task shapes (GET /v2/images/{id}/tasks).

export interface ImageTask {
  id: string;
  type: string;
  status: 'pending' | 'processing' | 'success' | 'failure' | string;
  message?: string;
  createdAt?: string;
  updatedAt?: string;
  result?: unknown;
  requestId?: string;
}

export function toImageTask(raw: Record<string, unknown>): ImageTask {
  return {
    id: String(raw.id),
    type: String(raw.type ?? ''),
    status: String(raw.status ?? ''),
    message: typeof raw.message === 'string' && raw.message ? raw.message : undefined,
    createdAt: typeof raw.created_at === 'string' ? raw.created_at : undefined,
    updatedAt: typeof raw.updated_at === 'string' ? raw.updated_at : undefined,
    result: raw.result,
    requestId: typeof raw.request_id === 'string' ? raw.request_id : undefined,
  };
}
