/**
 * The API's words for a field (lib/domain/issue-words.ts gives every validation issue plain words, so
 * the page shows them as they come), except where they name what the form does not show: the codes of
 * a list of choices (the form shows their labels) and the fields of her consent's scope (the form has
 * boxes to tick).
 */
export function friendly(message: string): string {
  if (/^must be one of "/.test(message)) return 'Choose one of the options';
  // An empty list of ticks: the API's own rule for her consent's providers names its codes (kind 'all'), the form its boxes.
  if (/^name at least one provider\b/i.test(message)) return 'Choose at least one';
  // Her consent's scope contradicting itself: the API names its field (shareWithProviders), the form its box.
  if (/^names nothing to share\b/i.test(message)) return 'Choose at least one, or untick that she agrees providers may be told';
  if (/^names every provider in the directory\b/i.test(message)) return 'Every provider is ticked, so nobody could be told: untick that she agrees providers may be told instead';
  return message;
}
