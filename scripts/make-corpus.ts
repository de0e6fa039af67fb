/**
 * Generates the lab's default language-modelling corpus, public/lm/corpus.txt (`npm run corpus`).
 *
 * The text is written by this program alone, from a fixed seed, with no external text: short
 * stories from a small grammar (recurring named characters, towns, places and objects that stay
 * consistent within a story, dialogue in quotes, small sums that add up), animal facts and
 * questions with answers, colours, opposites, the calendar, spelling, counting and arithmetic.
 * It is part of the QAFT Lab project and free to redistribute: the generated corpus is
 * dedicated to the public domain (CC0 1.0). Same seed → byte-identical output.
 *
 * Usage: npx tsx scripts/make-corpus.ts [--out public/lm/corpus.txt] [--chars 1000000] [--seed 4]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../src/engine/core/rng';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};
const OUT = arg('out', 'public/lm/corpus.txt');
const TARGET = Number(arg('chars', '1000000'));
const SEED = Number(arg('seed', '4'));

const rng = new Rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
const chance = (p: number) => rng.next() < p;
const between = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
/** "a" or "an" before a word. */
const an = (w: string) => (/^[aeiou]/.test(w) ? 'an ' : 'a ') + w;
function pickDistinct<T>(xs: readonly T[], n: number): T[] {
  const idx = Array.from(xs, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, n).map((i) => xs[i]);
}

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
/** 0–100 in words. */
function words(n: number): string {
  if (n < 20) return ONES[n];
  if (n === 100) return 'one hundred';
  return TENS[Math.floor(n / 10)] + (n % 10 ? '-' + ONES[n % 10] : '');
}
const plural = (n: number, one: string, many = one + 's') => `${words(n)} ${n === 1 ? one : many}`;

// ---- The world: people, towns, places, things, animals ----------------------------------------
interface Person {
  name: string;
  he: string;
  him: string;
  his: string;
  kind: string;
}
const GIRLS = ['Mia', 'Lily', 'Anna', 'Rosa', 'Nora', 'Ella', 'Zoe', 'Ivy', 'Ruth', 'Maya', 'Lucy', 'Hana'];
const BOYS = ['Tom', 'Ben', 'Sam', 'Leo', 'Max', 'Finn', 'Omar', 'Jack', 'Hugo', 'Eli', 'Noah', 'Kai'];
const PEOPLE: Person[] = [
  ...GIRLS.map((name) => ({ name, he: 'she', him: 'her', his: 'her', kind: 'girl' })),
  ...BOYS.map((name) => ({ name, he: 'he', him: 'him', his: 'his', kind: 'boy' })),
];
const ELDERS = ['Grandma Bell', 'Grandpa Joe', 'Aunt May', 'Uncle Ray', 'Mrs. Green', 'Mr. Stone', 'Old Pete', 'Miss Fern'];
const TOWNS = ['Elmwood', 'Stonebridge', 'Millbrook', 'Redhill', 'Oakford', 'Lakeside', 'Fernvale', 'Ashby', 'Pinecrest', 'Westmoor'];
const PLACES = [
  'the park',
  'the river',
  'the market',
  'the library',
  'the old mill',
  'the beach',
  'the forest',
  'the hill',
  'the school',
  'the bakery',
  'the garden',
  'the farm',
  'the harbor',
  'the meadow',
  'the station',
  'the bridge',
];
const HIDING = [
  'under a bench',
  'behind a tree',
  'next to a big rock',
  'in a pile of leaves',
  'under a table',
  'by the gate',
  'on a high shelf',
  'inside an old basket',
  'near the water',
  'under a bush',
];
const COLORS = ['red', 'blue', 'green', 'yellow', 'orange', 'purple', 'white', 'black', 'brown', 'pink'];
const THINGS = ['kite', 'ball', 'hat', 'book', 'box', 'key', 'lamp', 'boat', 'bell', 'cup', 'map', 'drum', 'scarf', 'shell', 'bike', 'coat'];
const FOODS: [string, string][] = [
  ['apple', 'apples'],
  ['pear', 'pears'],
  ['egg', 'eggs'],
  ['plum', 'plums'],
  ['carrot', 'carrots'],
  ['cookie', 'cookies'],
  ['lemon', 'lemons'],
  ['potato', 'potatoes'],
  ['cherry', 'cherries'],
  ['peach', 'peaches'],
];
const WEATHER = [
  'It was a sunny morning.',
  'It was a cold and windy day.',
  'The sky was grey and it looked like rain.',
  'It was a warm summer evening.',
  'Snow had fallen in the night.',
  'It was a bright spring day.',
];
const FEELINGS = ['happy', 'tired', 'proud', 'glad', 'sleepy', 'excited'];

interface Animal {
  name: string;
  many: string;
  legs: number;
  says: string | null;
  home: string;
  eats: string;
  size: string;
}
const ANIMALS: Animal[] = [
  { name: 'cat', many: 'cats', legs: 4, says: 'meow', home: 'in a house', eats: 'fish', size: 'small' },
  { name: 'dog', many: 'dogs', legs: 4, says: 'woof', home: 'in a house', eats: 'meat', size: 'medium' },
  { name: 'cow', many: 'cows', legs: 4, says: 'moo', home: 'on a farm', eats: 'grass', size: 'big' },
  { name: 'duck', many: 'ducks', legs: 2, says: 'quack', home: 'on a pond', eats: 'seeds', size: 'small' },
  { name: 'hen', many: 'hens', legs: 2, says: 'cluck', home: 'on a farm', eats: 'corn', size: 'small' },
  { name: 'horse', many: 'horses', legs: 4, says: 'neigh', home: 'in a stable', eats: 'hay', size: 'big' },
  { name: 'sheep', many: 'sheep', legs: 4, says: 'baa', home: 'in a field', eats: 'grass', size: 'medium' },
  { name: 'owl', many: 'owls', legs: 2, says: 'hoot', home: 'in a tree', eats: 'mice', size: 'small' },
  { name: 'frog', many: 'frogs', legs: 4, says: 'ribbit', home: 'in a pond', eats: 'flies', size: 'small' },
  { name: 'bee', many: 'bees', legs: 6, says: 'buzz', home: 'in a hive', eats: 'nectar', size: 'tiny' },
  { name: 'spider', many: 'spiders', legs: 8, says: null, home: 'in a web', eats: 'flies', size: 'tiny' },
  { name: 'pig', many: 'pigs', legs: 4, says: 'oink', home: 'on a farm', eats: 'apples', size: 'big' },
  { name: 'mouse', many: 'mice', legs: 4, says: 'squeak', home: 'in a hole', eats: 'cheese', size: 'tiny' },
  { name: 'lion', many: 'lions', legs: 4, says: 'roar', home: 'on the plains', eats: 'meat', size: 'big' },
  { name: 'goat', many: 'goats', legs: 4, says: 'maa', home: 'on a hill', eats: 'leaves', size: 'medium' },
  { name: 'crow', many: 'crows', legs: 2, says: 'caw', home: 'in a tree', eats: 'seeds', size: 'small' },
];
const PETS = ['Pip', 'Rex', 'Milo', 'Bella', 'Sox', 'Coco', 'Rusty', 'Daisy'];

// ---- Stories -----------------------------------------------------------------------------------
interface Cast {
  hero: Person;
  friend: Person;
  town: string;
  color: string;
  thing: string;
  elder: string;
  pet: { name: string; kind: string };
}
function cast(): Cast {
  const [hero, friend] = pickDistinct(PEOPLE, 2);
  return {
    hero,
    friend,
    town: pick(TOWNS),
    color: pick(COLORS),
    thing: pick(THINGS),
    elder: pick(ELDERS),
    pet: { name: pick(PETS), kind: pick(['dog', 'cat', 'goat', 'duck']) },
  };
}

function opening(c: Cast): string {
  const { hero: h } = c;
  return pick([
    `Once upon a time, in the town of ${c.town}, there lived a ${h.kind} named ${h.name}. ${cap(h.he)} had ${an(c.color)} ${c.thing}.`,
    `${h.name} lived in ${c.town} with ${c.elder}. ${cap(h.his)} favorite thing was ${an(c.color)} ${c.thing}.`,
    `In ${c.town}, every child knew ${h.name} and ${h.his} ${c.color} ${c.thing}.`,
    `${h.name} was a ${h.kind} from ${c.town}. ${cap(h.he)} had a ${c.pet.kind} named ${c.pet.name} and ${an(c.color)} ${c.thing}.`,
  ]);
}

function lostStory(c: Cast): string[] {
  const { hero: h, friend: f } = c;
  const [p1, p2, p3] = pickDistinct(PLACES, 3);
  const s = [opening(c), pick(WEATHER)];
  s.push(`${h.name} took the ${c.thing} to ${p1} to play with ${f.name}.`);
  s.push(`"What a nice ${c.thing}!" said ${f.name}. "Is it new?"`, `"No," said ${h.name}. "${c.elder} gave it to me."`);
  s.push(
    pick([
      `They played for a long time. When it was time to go home, the ${c.color} ${c.thing} was gone.`,
      `They played until the sun was low. Then ${h.name} looked around. The ${c.color} ${c.thing} was gone!`,
      `After lunch, ${h.name} could not find the ${c.thing}. It was gone.`,
    ]),
  );
  s.push(`"Where is my ${c.thing}?" cried ${h.name}.`, `"Do not worry," said ${f.name}. "We will find it. Let us look at ${p2}."`);
  s.push(`They walked to ${p2} and looked everywhere. The ${c.thing} was not at ${p2}.`);
  if (chance(0.5)) s.push(`Then ${c.pet.name} the ${c.pet.kind} ran ahead to ${p3}.`);
  else s.push(`"Maybe it is at ${p3}," said ${h.name}.`);
  s.push(`At ${p3}, ${h.name} saw something ${c.color} ${pick(HIDING)}. It was the ${c.thing}!`);
  s.push(`"Thank you, ${f.name}," said ${h.name}. "You are a good friend."`);
  s.push(`That night, ${h.name} put the ${c.color} ${c.thing} next to ${h.his} bed. ${cap(h.he)} was ${pick(FEELINGS)}.`);
  return s;
}

function marketStory(c: Cast): string[] {
  const { hero: h, friend: f } = c;
  const [food, foods] = pick(FOODS);
  const n = between(2, 9);
  const price = between(1, 5);
  const coins = n * price + between(0, 6);
  const gave = between(1, n - 1);
  const s = [opening(c), `One day ${c.elder} said, "${h.name}, please go to the market and buy ${plural(n, food, foods)}."`];
  s.push(`${cap(c.elder)} gave ${h.name} ${plural(coins, 'coin')}.`);
  s.push(`At the market, each ${food} cost ${plural(price, 'coin')}. ${h.name} bought ${plural(n, food, foods)}.`);
  s.push(`${cap(words(n))} ${n === 1 ? food : foods} at ${plural(price, 'coin')} each is ${plural(n * price, 'coin')}.`);
  s.push(coins === n * price ? `${h.name} had no coins left.` : `${h.name} had ${plural(coins - n * price, 'coin')} left.`);
  s.push(`On the way home, ${h.name} met ${f.name}. "Can I have ${an(food)}?" asked ${f.name}.`);
  s.push(`"Yes, you can have ${words(gave)}," said ${h.name}, and ${h.he} gave ${f.name} ${plural(gave, food, foods)}.`);
  s.push(`Now ${h.name} had ${plural(n - gave, food, foods)}. ${cap(c.elder)} smiled and said, "That was kind of you."`);
  return s;
}

function visitStory(c: Cast): string[] {
  const { hero: h, friend: f } = c;
  const a = pick(ANIMALS);
  const place = pick(['the farm', 'the meadow', 'the forest', 'the river']);
  const count = between(2, 12);
  const s = [opening(c), pick(WEATHER), `${h.name} and ${f.name} went to ${place} with ${c.elder}.`];
  s.push(`At ${place} they saw ${plural(count, a.name, a.many)}.`);
  s.push(
    `"Look!" said ${f.name}. "How many ${a.many} can you see?"`,
    `${h.name} counted: ${Array.from({ length: count }, (_, i) => words(i + 1)).join(', ')}. "I can see ${words(count)}!"`,
  );
  if (a.says) s.push(`One ${a.name} said "${a.says}, ${a.says}!" and ${f.name} laughed.`);
  s.push(`"Did you know that ${an(a.name)} has ${words(a.legs)} legs?" asked ${c.elder}. "And it eats ${a.eats}."`);
  const more = between(1, 5);
  s.push(`Then ${plural(more, 'more ' + a.name, 'more ' + a.many)} came. Now there were ${plural(count + more, a.name, a.many)}.`);
  s.push(`When the sun went down, they went home to ${c.town}. ${h.name} was ${pick(FEELINGS)}, and so was ${f.name}.`);
  return s;
}

function rainStory(c: Cast): string[] {
  const { hero: h, friend: f } = c;
  const plan =
    c.thing === 'kite'
      ? `fly ${h.his} kite`
      : c.thing === 'boat'
        ? `sail ${h.his} boat`
        : pick(['play ball', 'go to the beach', 'ride bikes', 'have a picnic', 'play tag']);
  const book = `${pick(['The Big', 'The Little', 'The Lost', 'The Brave', 'The Silver'])} ${pick(['Fox', 'Ship', 'Tree', 'Moon', 'Bear', 'Key', 'Owl'])}`;
  const pages = between(10, 60);
  const s = [opening(c), `${h.name} and ${f.name} wanted to ${plan}.`, `But then it began to rain. "Oh no," said ${f.name}. "What can we do now?"`];
  s.push(`"We can go to the library," said ${h.name}. So they ran to the library in the rain.`);
  s.push(`${h.name} found a book called "${book}". It had ${words(pages)} pages.`);
  s.push(`They read ${words(Math.floor(pages / 2))} pages before lunch and ${words(pages - Math.floor(pages / 2))} pages after lunch.`);
  s.push(`"We read the whole book!" said ${f.name}. "${book}" is my new favorite book.`);
  s.push(`When the rain stopped, they went out to ${plan}. It was a good day after all.`);
  return s;
}

function birthdayStory(c: Cast): string[] {
  const { hero: h, friend: f } = c;
  const age = between(5, 12);
  const guests = pickDistinct(
    PEOPLE.filter((p) => p !== h && p !== f),
    between(2, 4),
  );
  const color = pick(COLORS);
  const gift = pick(THINGS.filter((t) => t !== c.thing));
  const s = [opening(c), `It was ${f.name}'s birthday. ${f.name} was ${words(age)} years old today.`];
  s.push(
    `${h.name} wanted to give ${f.name} a present. ${cap(h.he)} went to ${pick(['the market', 'the shop by the bridge', 'the bakery'])} and found ${an(color)} ${gift}.`,
  );
  s.push(`"${f.name} will like this," ${h.name} said to ${c.elder}.`);
  s.push(`There were ${plural(guests.length + 1, 'child', 'children')} at the party: ${[h, ...guests].map((p) => p.name).join(', ')}.`);
  s.push(`The cake had ${plural(age, 'candle')} on it. "Happy birthday, ${f.name}!" they all sang.`);
  s.push(`${f.name} blew out all ${words(age)} candles at once.`);
  s.push(`Then ${f.name} opened the present from ${h.name}. It was ${an(color)} ${gift}!`);
  s.push(`"I love it," said ${f.name}. "Thank you, ${h.name}!"`, `Next year ${f.name} will be ${words(age + 1)}.`);
  return s;
}

function title(c: Cast, kind: number): string {
  return [
    `${c.hero.name} and the ${cap(c.color)} ${cap(c.thing)}`,
    `${c.hero.name} Goes to the Market`,
    `A Day with ${c.elder}`,
    `${c.hero.name}, ${c.friend.name} and the Rain`,
    `${c.friend.name}'s Birthday`,
  ][kind];
}

let storyNo = 0;
function story(): string {
  const c = cast();
  const kind = rng.int(5);
  const body = [lostStory, marketStory, visitStory, rainStory, birthdayStory][kind](c);
  storyNo += 1;
  // Paragraphs of 2-4 sentences.
  const paras: string[] = [];
  for (let i = 0; i < body.length;) {
    const k = between(2, 4);
    paras.push(body.slice(i, i + k).join(' '));
    i += k;
  }
  return `Story ${storyNo}: ${title(c, kind)}\n\n${paras.join('\n')}\nThe end.`;
}

// ---- Facts, questions, lists -------------------------------------------------------------------
const THING_COLORS: [string, string][] = [
  ['the sky', 'blue'],
  ['grass', 'green'],
  ['snow', 'white'],
  ['coal', 'black'],
  ['a lemon', 'yellow'],
  ['a tomato', 'red'],
  ['an orange', 'orange'],
  ['a plum', 'purple'],
  ['milk', 'white'],
  ['a leaf', 'green'],
  ['the sun', 'yellow'],
  ['a cherry', 'red'],
  ['the sea', 'blue'],
  ['chocolate', 'brown'],
];
const OPPOSITES: [string, string][] = [
  ['hot', 'cold'],
  ['big', 'small'],
  ['up', 'down'],
  ['day', 'night'],
  ['fast', 'slow'],
  ['happy', 'sad'],
  ['open', 'closed'],
  ['full', 'empty'],
  ['old', 'new'],
  ['light', 'dark'],
  ['wet', 'dry'],
  ['loud', 'quiet'],
  ['early', 'late'],
  ['near', 'far'],
  ['left', 'right'],
  ['first', 'last'],
];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const SEASONS: [string, string[]][] = [
  ['winter', ['December', 'January', 'February']],
  ['spring', ['March', 'April', 'May']],
  ['summer', ['June', 'July', 'August']],
  ['autumn', ['September', 'October', 'November']],
];
const SPELL = [
  'cat',
  'dog',
  'sun',
  'tree',
  'book',
  'river',
  'apple',
  'house',
  'green',
  'happy',
  'kite',
  'bread',
  'stone',
  'water',
  'seven',
  'market',
  'garden',
  'friend',
  'yellow',
  'winter',
  'owl',
  'bell',
  'map',
  'lamp',
  'bridge',
  'forest',
];

function animalFacts(): string {
  const a = pick(ANIMALS);
  const s = [`Facts about the ${a.name}.`, `${cap(an(a.name))} is an animal. ${cap(an(a.name))} has ${words(a.legs)} legs.`];
  if (a.says) s.push(`${cap(an(a.name))} says "${a.says}".`);
  s.push(`${cap(an(a.name))} lives ${a.home} and eats ${a.eats}. ${cap(an(a.name))} is ${a.size}.`);
  const n = between(2, 6);
  s.push(`${cap(plural(n, a.name, a.many))} have ${words(n * a.legs)} legs in all.`);
  return s.join(' ');
}

function questions(): string {
  const out: string[] = [];
  for (let i = 0, n = between(3, 6); i < n; i++) {
    const a = pick(ANIMALS);
    const k = rng.int(7);
    if (k === 0) out.push(`Q: How many legs does ${an(a.name)} have?\nA: ${cap(an(a.name))} has ${words(a.legs)} legs.`);
    else if (k === 1 && a.says) out.push(`Q: What does ${an(a.name)} say?\nA: ${cap(an(a.name))} says "${a.says}".`);
    else if (k === 2) out.push(`Q: Where does ${an(a.name)} live?\nA: ${cap(an(a.name))} lives ${a.home}.`);
    else if (k === 3) out.push(`Q: What does ${an(a.name)} eat?\nA: ${cap(an(a.name))} eats ${a.eats}.`);
    else if (k === 4) {
      const [t, col] = pick(THING_COLORS);
      out.push(`Q: What color is ${t}?\nA: ${cap(t)} is ${col}.`);
    } else if (k === 5) {
      const [x, y] = pick(OPPOSITES);
      const [p, q] = chance(0.5) ? [x, y] : [y, x];
      out.push(`Q: What is the opposite of ${p}?\nA: The opposite of ${p} is ${q}.`);
    } else {
      const d = rng.int(7);
      out.push(`Q: What day comes after ${DAYS[d]}?\nA: After ${DAYS[d]} comes ${DAYS[(d + 1) % 7]}.`);
    }
  }
  return out.join('\n');
}

function calendar(): string {
  const k = rng.int(4);
  if (k === 0) return `The days of the week are ${DAYS.slice(0, 6).join(', ')} and Sunday. A week has seven days.`;
  if (k === 1) {
    const m = rng.int(12);
    return `${MONTHS[m]} is month number ${words(m + 1)}. The month before ${MONTHS[m]} is ${MONTHS[(m + 11) % 12]}, and the month after it is ${MONTHS[(m + 1) % 12]}.`;
  }
  if (k === 2) {
    const [season, months] = pick(SEASONS);
    return `The months of ${season} are ${months[0]}, ${months[1]} and ${months[2]}. A year has four seasons and twelve months.`;
  }
  const d = rng.int(7);
  const n = between(1, 6);
  return `Today is ${DAYS[d]}. In ${plural(n, 'day')} it will be ${DAYS[(d + n) % 7]}. Yesterday was ${DAYS[(d + 6) % 7]}.`;
}

function spelling(): string {
  const ws = pickDistinct(SPELL, between(3, 5));
  return ws.map((w) => `The word "${w}" is spelled ${w.split('').join('-')}. It has ${plural(w.length, 'letter')}.`).join('\n');
}

function lists(): string {
  const h = pick(PEOPLE);
  const k = rng.int(3);
  if (k === 0) {
    const items = pickDistinct(FOODS, between(3, 5)).map(([one, many]) => plural(between(1, 6), one, many));
    return `${h.name}'s shopping list:\n${items.map((x) => `- ${x}`).join('\n')}`;
  }
  if (k === 1) {
    const cs = pickDistinct(COLORS, between(3, 5));
    return `${h.name} has ${plural(cs.length, 'crayon')}: ${cs.slice(0, -1).join(', ')} and ${cs[cs.length - 1]}.`;
  }
  const ps = pickDistinct(PLACES, 3);
  return `First ${h.name} went to ${ps[0]}. Next ${h.he} went to ${ps[1]}. Last ${h.he} went to ${ps[2]}. ${cap(h.he)} went to three places.`;
}

function opposites(): string {
  return pickDistinct(OPPOSITES, between(3, 5))
    .map(([a, b]) => `${cap(a)} is the opposite of ${b}.`)
    .join(' ');
}

// ---- Numbers -----------------------------------------------------------------------------------
function counting(): string {
  const k = rng.int(4);
  if (k === 0) {
    const a = between(1, 40);
    const b = a + between(4, 10);
    return `Count from ${a} to ${b}: ${Array.from({ length: b - a + 1 }, (_, i) => a + i).join(', ')}.`;
  }
  if (k === 1) {
    const step = pick([2, 3, 5, 10]);
    return `Count by ${words(step)}s: ${Array.from({ length: 8 }, (_, i) => step * (i + 1)).join(', ')}.`;
  }
  if (k === 2) {
    const a = between(1, 90);
    const b = a + between(3, 8);
    return `${cap(Array.from({ length: b - a + 1 }, (_, i) => words(a + i)).join(', '))}.`;
  }
  const a = between(5, 20);
  return `Count down from ${words(a)}: ${Array.from({ length: 6 }, (_, i) => words(a - i)).join(', ')}.`;
}

function arithmetic(): string {
  const lines: string[] = [];
  for (let i = 0, n = between(3, 7); i < n; i++) {
    const k = rng.int(6);
    const a = between(0, 12);
    const b = between(0, 12);
    if (k === 0) lines.push(`${a} + ${b} = ${a + b}`);
    else if (k === 1) lines.push(`${Math.max(a, b)} - ${Math.min(a, b)} = ${Math.max(a, b) - Math.min(a, b)}`);
    else if (k === 2) lines.push(`${a % 10} * ${b % 10} = ${(a % 10) * (b % 10)}`);
    else if (k === 3) lines.push(`${cap(words(a))} plus ${words(b)} is ${words(a + b)}.`);
    else if (k === 4) lines.push(`${cap(words(Math.max(a, b)))} minus ${words(Math.min(a, b))} is ${words(Math.max(a, b) - Math.min(a, b))}.`);
    else {
      const p = pick(PEOPLE);
      const [one, many] = pick(FOODS);
      const x = between(2, 12);
      const y = between(1, x);
      lines.push(`${p.name} had ${plural(x, one, many)} and ate ${words(y)}. How many are left? ${cap(words(x - y))}.`);
    }
  }
  return lines.join('\n');
}

function compare(): string {
  const a = between(0, 99);
  let b = between(0, 99);
  if (b === a) b = (a + 7) % 100;
  return `${a} is ${a > b ? 'more' : 'less'} than ${b}. ${cap(words(a))} is ${a > b ? 'bigger' : 'smaller'} than ${words(b)}.`;
}

// ---- Assemble ------------------------------------------------------------------------------------
const SECTIONS: [number, () => string][] = [
  [10, story],
  [2, animalFacts],
  [2, questions],
  [1, calendar],
  [1, spelling],
  [1, lists],
  [1, opposites],
  [1, counting],
  [2, arithmetic],
  [1, compare],
];
const totalWeight = SECTIONS.reduce((s, [w]) => s + w, 0);
function section(): string {
  let r = rng.next() * totalWeight;
  for (const [w, f] of SECTIONS) {
    r -= w;
    if (r < 0) return f();
  }
  return story();
}

const parts: string[] = [];
let size = 0;
while (size < TARGET) {
  const s = section();
  parts.push(s);
  size += s.length + 2;
}
const text = parts.join('\n\n') + '\n';
const bad = text.match(/[^\n\x20-\x7e]/);
if (bad) throw new Error(`corpus: non-printable character ${JSON.stringify(bad[0])} at ${bad.index}`);
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, text);
const vocab = new Set(text).size;
const sha = createHash('sha256').update(text).digest('hex');
console.log(
  `wrote ${OUT}: ${text.length.toLocaleString('en-US')} characters, ${storyNo} stories, ${parts.length} sections, vocabulary ${vocab}, sha256 ${sha}`,
);
