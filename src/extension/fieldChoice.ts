/** A user's choice of label and text fields for one file. Pure (unit-tested without VS Code). */

export interface FieldChoice {
  label?: string;
  text?: string[];
}

/** A remembered choice still applies if every field it names still exists in the file. */
export function validChoice(choice: FieldChoice, names: readonly string[]): boolean {
  const used = [...(choice.label ? [choice.label] : []), ...(choice.text ?? [])];
  return used.length > 0 && used.every((f) => names.includes(f));
}

/** Short text for the status line and the output channel. */
export function describeChoice(choice: FieldChoice): string {
  const parts: string[] = [];
  if (choice.text?.length) parts.push(`text: ${choice.text.join(' + ')}`);
  if (choice.label) parts.push(`label: ${choice.label}`);
  return parts.join(', ') || 'inferred fields';
}
