/** The authenticated admin on whose behalf a sync runs; recorded as the audit actor. */
export interface Caller {
  _id: string;
  username: string;
  roles: string[];
}
