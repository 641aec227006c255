/** One ABAC attribute as users and rooms store it: a key and its values. */
export interface AbacAttribute {
  key: string;
  values: string[];
}
