// Generates media/example/reviews.jsonl: ~300 short, made-up movie/product reviews labelled positive/negative,
// from the word lists below with a seeded PRNG (deterministic: same output every run). All content is our own.
// A few rows are deliberately atypical so the example has something to find: sarcasm, mislabelled rows and rows
// made of rare words. Their ids are printed to stderr.
//   node scripts/make-example.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './mulberry32.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, '..', 'media', 'example', 'reviews.jsonl');

const rand = mulberry32(20240611);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

const things = {
  movie: ['movie', 'film', 'sequel', 'documentary', 'thriller', 'comedy', 'drama', 'animated film'],
  product: [
    'phone',
    'blender',
    'laptop',
    'backpack',
    'coffee maker',
    'vacuum',
    'headset',
    'kettle',
    'charger',
    'lamp',
  ],
};
const aspects = {
  movie: [
    'the acting',
    'the plot',
    'the soundtrack',
    'the ending',
    'the dialogue',
    'the pacing',
    'the cast',
    'the script',
  ],
  product: [
    'the battery',
    'the build quality',
    'the price',
    'the design',
    'the sound',
    'the screen',
    'the handle',
    'the motor',
  ],
};
const posAdj = [
  'great',
  'wonderful',
  'excellent',
  'brilliant',
  'lovely',
  'fantastic',
  'solid',
  'delightful',
  'superb',
  'charming',
];
const negAdj = [
  'terrible',
  'awful',
  'boring',
  'disappointing',
  'cheap',
  'flimsy',
  'dull',
  'broken',
  'poor',
  'clumsy',
];
const posVerb = ['loved', 'enjoyed', 'adored', 'really liked', 'would recommend'];
const negVerb = ['hated', 'regretted buying', 'could not stand', 'returned', 'would not recommend'];
const posTail = [
  'Worth every penny.',
  'Highly recommended!',
  'Five stars.',
  'I would buy it again.',
  'A real joy.',
  'Will watch again!',
];
const negTail = [
  'Waste of money.',
  'Avoid it.',
  'One star.',
  'Never again.',
  'What a letdown.',
  'I want a refund!',
];

function review(kind, positive) {
  const thing = pick(things[kind]);
  const aspect = pick(aspects[kind]);
  const adj = positive ? pick(posAdj) : pick(negAdj);
  const adj2 = positive ? pick(posAdj) : pick(negAdj);
  const verb = positive ? pick(posVerb) : pick(negVerb);
  const tail = positive ? pick(posTail) : pick(negTail);
  switch (Math.floor(rand() * 4)) {
    case 0:
      return `${cap(aspect)} was ${adj} and ${kind === 'movie' ? 'the story' : 'the whole thing'} felt ${adj2}. ${tail}`;
    case 1:
      return `I ${verb} this ${thing}. ${cap(aspect)} is ${adj}. ${tail}`;
    case 2:
      return `${/^[aeiou]/.test(adj) ? 'An' : 'A'} ${adj} ${thing}: ${aspect} was ${adj2}. ${tail}`;
    default:
      return `${cap(adj)} ${thing}, ${adj2} ${aspect.replace('the ', '')}. ${tail}`;
  }
}

// Atypical rows (fixed text so they are recognisable).
const sarcastic = [
  [
    'Oh great, another phone that dies before lunch. Just wonderful. Truly brilliant engineering.',
    'negative',
  ],
  ['Fantastic, the blender broke on day two. I just love surprises. Excellent work.', 'negative'],
  ['What a delightful film, if you enjoy sleeping in a cinema for three hours.', 'negative'],
  ['Superb customer service: they hung up on me twice. Lovely.', 'negative'],
];
const mislabeled = [
  ['I loved this movie. The acting is brilliant. Highly recommended!', 'negative'],
  ['Excellent laptop, superb screen and a great battery. Five stars.', 'negative'],
  ['Terrible kettle, flimsy handle. Waste of money.', 'positive'],
  ['I hated this film. The plot was boring and the ending awful. Avoid it.', 'positive'],
];
const rare = [
  ['A lugubrious, sesquipedalian melodrama; the denouement was interminable.', 'negative'],
  ['Mellifluous timbre, sumptuous chassis and a perspicacious firmware update.', 'positive'],
  ['The cinematography was crepuscular and the score an ineffable susurrus.', 'positive'],
  ['Obstreperous fan, a fractious hinge and a querulous beeping.', 'negative'],
];

const plain = [];
for (let i = 0; i < 288; i++) {
  const kind = rand() < 0.5 ? 'movie' : 'product';
  const positive = rand() < 0.5;
  plain.push([review(kind, positive), positive ? 'positive' : 'negative']);
}
// Spread the atypical rows through the file at fixed positions.
const special = [
  ...sarcastic.map((r) => [...r, 'sarcasm']),
  ...mislabeled.map((r) => [...r, 'mislabeled']),
  ...rare.map((r) => [...r, 'rare words']),
];
const rows = [...plain];
special.forEach((r, k) => rows.splice(13 + k * 23, 0, r));

const lines = [];
const atypical = [];
rows.forEach(([text, label, why], i) => {
  const id = `r${String(i + 1).padStart(3, '0')}`;
  if (why) atypical.push(`${id} (${why})`);
  lines.push(JSON.stringify({ id, text, label }));
});
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, lines.join('\n') + '\n');
console.error(`wrote ${rows.length} rows to ${outFile}`);
console.error(`atypical: ${atypical.join(', ')}`);
