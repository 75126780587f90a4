export const RESPONSE_SCHEMAS: readonly string[];
export function generate(schemas: Record<string, unknown>): string;
