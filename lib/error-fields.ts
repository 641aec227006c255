/** What a log line says of an error: its class and message, never its other fields (a driver's may hold data). */
export function errorFields(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: '' };
}
