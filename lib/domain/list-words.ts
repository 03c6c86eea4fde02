/**
 * Lists in a sentence, as British English writes them (Intl.ListFormat, no serial comma): "domestic
 * abuse, accommodation and trauma", "Anawim, Changing Lives or Green Square Accord"; one item alone,
 * none as nothing. The one place the domain's words (allocation reasons, API error words) join lists.
 */
const AND = new Intl.ListFormat('en-GB', { style: 'long', type: 'conjunction' });
const OR = new Intl.ListFormat('en-GB', { style: 'long', type: 'disjunction' });

/** Things as people list them together: "a, b and c". */
export const andList = (items: readonly string[]): string => AND.format(items);

/** Alternatives as people list them: "a, b or c". */
export const orList = (items: readonly string[]): string => OR.format(items);
