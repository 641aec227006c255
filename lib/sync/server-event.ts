/** Who a server event names as having acted: a user, or the system on behalf of a job. */
export interface ServerEventActor {
  type: 'user' | 'system';
  _id?: string;
  username?: string;
  /** For the system: the job whose run made the change. */
  jobId?: string;
}

/** An audit event as the chat server stores it in rocketchat_server_events. */
export interface ServerEventDocument {
  _id: string;
  t: string;
  ts: Date;
  actor: ServerEventActor;
  data: { key: string; value: unknown }[];
}
