"""Synthetic multi-step grade-school word problems in GSM8K's format (question; answer with exact
``<<expr=value>>`` annotations, one step per line, final ``#### N``).

Templates: shopping (with change or a coupon), earnings over days, rates and speed, ages, sharing,
percent and fraction discounts, time conversions, savings, garden rows, bakery orders. Every answer
is checked by :func:`mathwright.formats.gsm.check` against exact arithmetic before it is returned, all
final answers are non-negative integers, and every problem has 2 to 8 steps.

Record ``i`` is drawn from its own RNG seeded by ``(seed, i, attempt)``, so the first ``n`` records of a
larger run equal a smaller run, and output is byte-identical for the same seed.

>>> recs = generate_word_problems(3, seed=1)
>>> [sorted(r) for r in recs][0]
['answer', 'id', 'question', 'steps', 'template']
>>> recs == generate_word_problems(3, seed=1)
True
"""
from __future__ import annotations

import random
from fractions import Fraction
from typing import Callable

from mathwright.arith.exact import calc
from mathwright.formats.gsm import check
from mathwright.io import InputError

MAX_PROBLEMS = 1_000_000  # a generated set is one list of dicts (~1-2 kB each)
NAMES = ["Ava", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kira", "Leo",
         "Mia", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes", "Yuki", "Zoe"]
ITEMS = [("apple", "apples"), ("notebook", "notebooks"), ("pencil", "pencils"), ("sandwich", "sandwiches"),
         ("ticket", "tickets"), ("book", "books"), ("shirt", "shirts"), ("toy car", "toy cars"),
         ("cupcake", "cupcakes"), ("plant", "plants"), ("ball", "balls"), ("mug", "mugs")]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FRIENDS = ["friends", "cousins", "classmates", "teammates", "neighbors"]


class _Sol:
    """Collects solution steps; :meth:`eq` writes ``a * b = <<a*b=v>>v`` and returns the exact value."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def eq(self, expr: str, before: str, after: str, unit: str = "") -> int:
        v = calc(expr)
        pretty = expr.replace("*", " * ").replace("+", " + ").replace("-", " - ").replace("/", " / ")
        self.lines.append(f"{before}{pretty} = {unit}<<{expr}={v}>>{v}{after}")
        f = Fraction(v)
        assert f.denominator == 1, (expr, v)  # templates keep every intermediate an integer
        return int(f)


def _pick(r: random.Random, xs: list) -> object:
    return r.choice(xs)


def shopping(r: random.Random) -> tuple[str, _Sol, int]:
    """k item types at unit prices, then maybe a coupon, then maybe change from a bill (2-7 steps)."""
    name = _pick(r, NAMES)
    k = r.randint(1, 4)
    items = r.sample(ITEMS, k)
    qty = [r.randint(2, 12) for _ in range(k)]
    price = [r.randint(1, 15) for _ in range(k)]
    parts = [f"{q} {it[1]} for ${p} each" for q, it, p in zip(qty, items, price)]
    s = _Sol()
    costs = [s.eq(f"{q}*{p}", f"The {it[1]} cost ", ".", "$") for q, it, p in zip(qty, items, price)]
    total = costs[0]
    if k > 1:
        total = s.eq("+".join(map(str, costs)), "Altogether she spends ", ".", "$")
    coupon = r.random() < 0.5 and total > 10
    if coupon:
        off = r.randint(1, min(10, total - 1))
        total = s.eq(f"{total}-{off}", "With the coupon she pays ", ".", "$")
    change = r.random() < 0.6 or k == 1
    q = f"{name} buys " + (", ".join(parts[:-1]) + " and " + parts[-1] if k > 1 else parts[0]) + "."
    if coupon:
        q += f" She has a coupon for ${off} off the total."
    if change:
        bill = next(b for b in (20, 50, 100, 200, 500, 1000) if b >= total)
        res = s.eq(f"{bill}-{total}", "Her change is ", ".", "$")
        q += f" She pays with a ${bill} bill. How much change does she get?"
    else:
        res = total
        q += " How much does she pay in total?"
    return q, s, res


def earnings(r: random.Random) -> tuple[str, _Sol, int]:
    """Hourly pay over several days, minus an expense, times weeks (2-8 steps)."""
    name = _pick(r, NAMES)
    rate = r.randint(8, 25)
    k = r.randint(1, 4)
    days = DAYS[: 7][r.randint(0, 7 - k):][:k]
    hours = [r.randint(2, 9) for _ in days]
    s = _Sol()
    q = f"{name} earns ${rate} an hour. " + " ".join(f"On {d} {name} works {h} hours." for d, h in zip(days, hours))
    if k == 1:
        total = s.eq(f"{rate}*{hours[0]}", f"On {days[0]} {name} earns ", ".", "$")
    else:
        hsum = s.eq("+".join(map(str, hours)), f"{name} works ", " hours a week.")
        total = s.eq(f"{rate}*{hsum}", f"{name} earns ", " a week.", "$")
    weeks = r.randint(2, 6)
    total = s.eq(f"{total}*{weeks}", f"In {weeks} weeks that is ", ".", "$")
    if r.random() < 0.5:
        spend = r.randint(1, total // 2)
        total = s.eq(f"{total}-{spend}", "After buying a bike for $%d, %s has " % (spend, name), " left.", "$")
        q += f" How much money does {name} have after {weeks} weeks if {name} buys a ${spend} bike?"
    else:
        q += f" How much does {name} earn in {weeks} weeks?"
    return q, s, total


def travel(r: random.Random) -> tuple[str, _Sol, int]:
    """Two legs at speeds, optionally a return trip (3-5 steps)."""
    name = _pick(r, NAMES)
    v1, h1, v2, h2 = r.randint(20, 70), r.randint(1, 5), r.randint(20, 70), r.randint(1, 5)
    s = _Sol()
    d1 = s.eq(f"{v1}*{h1}", "The first part is ", " miles.")
    d2 = s.eq(f"{v2}*{h2}", "The second part is ", " miles.")
    tot = s.eq(f"{d1}+{d2}", "The trip is ", " miles.")
    q = (f"{name} drives at {v1} miles per hour for {h1} hours, then at {v2} miles per hour for {h2} hours.")
    if r.random() < 0.5:
        tot = s.eq(f"{tot}*2", "There and back is ", " miles.")
        q += " Then she drives the same way back. How many miles does she drive in all?"
    else:
        q += " How many miles does she drive?"
    return q, s, tot


def ages(r: random.Random) -> tuple[str, _Sol, int]:
    """Age relations, then a sum or a future age (3-5 steps)."""
    a, b, c = r.sample(NAMES, 3)
    cz, m, k = r.randint(2, 12), r.randint(2, 4), r.randint(1, 15)
    s = _Sol()
    bz = s.eq(f"{m}*{cz}", f"{b} is ", " years old.")
    az = s.eq(f"{bz}+{k}", f"{a} is ", " years old.")
    q = f"{c} is {cz} years old. {b} is {m} times as old as {c}. {a} is {k} years older than {b}."
    if r.random() < 0.5:
        t = r.randint(2, 20)
        res = s.eq(f"{az}+{t}", f"In {t} years {a} will be ", ".")
        q += f" How old will {a} be in {t} years?"
    else:
        sm = s.eq(f"{az}+{bz}+{cz}", "Together they are ", " years old.")
        res = sm
        q += " What is the sum of their ages?"
    return q, s, res


def sharing(r: random.Random) -> tuple[str, _Sol, int]:
    """Buy packs, give some away, split the rest equally (3-4 steps)."""
    name = _pick(r, NAMES)
    friends = r.randint(2, 8)
    each = r.randint(2, 15)
    packs, per = r.randint(2, 9), None
    give = r.randint(1, 20)
    s = _Sol()
    # choose the pack size so that what is left divides evenly
    rest_target = friends * each
    total_needed = rest_target + give
    per = -(-total_needed // packs)
    extra = packs * per - total_needed
    give += extra
    tot = s.eq(f"{packs}*{per}", f"{name} has ", " candies.")
    rest = s.eq(f"{tot}-{give}", "After giving some to her brother she has ", " left.")
    res = s.eq(f"{rest}/{friends}", "Each of her friends gets ", " candies.")
    q = (f"{name} buys {packs} bags of candy with {per} candies in each bag. She gives {give} candies to her "
         f"brother and shares the rest equally among {friends} {_pick(r, FRIENDS)}. How many candies does each get?")
    return q, s, res


def percent(r: random.Random) -> tuple[str, _Sol, int]:
    """A percent sold, then a fraction of the rest (4-5 steps)."""
    item = _pick(r, ITEMS)
    pct = r.choice([10, 20, 25, 40, 50, 60, 75])
    den = r.choice([2, 3, 4, 5])
    # n must make n*pct/100 and the rest/den integers
    unit = 100 // __import__("math").gcd(100, pct)
    n = unit * r.randint(1, 12)
    while (n - n * pct // 100) % den:
        n += unit
    s = _Sol()
    sold = s.eq(f"{n}*{pct}/100", "On Monday the store sells ", f" {item[1]}.")
    rest = s.eq(f"{n}-{sold}", "That leaves ", f" {item[1]}.")
    sold2 = s.eq(f"{rest}/{den}", "On Tuesday it sells ", f" {item[1]}.")
    left = s.eq(f"{rest}-{sold2}", "The store has ", f" {item[1]} left.")
    q = (f"A store has {n} {item[1]}. It sells {pct}% of them on Monday and 1/{den} of the rest on Tuesday. "
         f"How many {item[1]} are left?")
    if r.random() < 0.4:
        price = r.randint(2, 9)
        left = s.eq(f"{left}*{price}", "They are worth ", ".", "$")
        q = q[: -len(f"How many {item[1]} are left?")] + f"Each is worth ${price}. What are the ones left worth?"
    return q, s, left


def minutes(r: random.Random) -> tuple[str, _Sol, int]:
    """Minutes per day over days, converted to hours (3-4 steps)."""
    name = _pick(r, NAMES)
    a, b = r.randint(1, 6) * 5, r.randint(1, 6) * 5
    days = r.choice([4, 6, 12])
    per = a + b
    while (per * days) % 60:
        days += 1
    s = _Sol()
    d = s.eq(f"{a}+{b}", f"Each day {name} practices ", " minutes.")
    tot = s.eq(f"{d}*{days}", f"In {days} days that is ", " minutes.")
    hrs = s.eq(f"{tot}/60", "That is ", " hours.")
    q = (f"{name} practices piano for {a} minutes in the morning and {b} minutes in the evening. "
         f"How many hours does {name} practice in {days} days?")
    return q, s, hrs


def savings(r: random.Random) -> tuple[str, _Sol, int]:
    """Weekly savings, a gift, then how many weeks more to reach a price (4-5 steps)."""
    name = _pick(r, NAMES)
    w, weeks, gift = r.randint(3, 20), r.randint(2, 8), r.randint(5, 40)
    more = r.randint(1, 6)
    s = _Sol()
    saved = s.eq(f"{w}*{weeks}", f"{name} saves ", f" in {weeks} weeks.", "$")
    have = s.eq(f"{saved}+{gift}", "With the gift she has ", ".", "$")
    price = have + w * more
    need = s.eq(f"{price}-{have}", "She still needs ", ".", "$")
    res = s.eq(f"{need}/{w}", "She needs ", " more weeks.")
    q = (f"{name} saves ${w} every week. After {weeks} weeks her aunt gives her ${gift}. She wants a game that costs "
         f"${price}. How many more weeks must she save?")
    return q, s, res


def garden(r: random.Random) -> tuple[str, _Sol, int]:
    """Rows of plants, some die, yield per plant, sold in boxes (3-5 steps)."""
    name = _pick(r, NAMES)
    rows, per, dead, yld = r.randint(2, 9), r.randint(3, 12), r.randint(1, 5), r.randint(2, 8)
    s = _Sol()
    tot = s.eq(f"{rows}*{per}", f"{name} plants ", " tomato plants.")
    alive = s.eq(f"{tot}-{dead}", "", " plants survive.")
    tom = s.eq(f"{alive}*{yld}", "They give ", " tomatoes.")
    q = (f"{name} plants {rows} rows of tomatoes with {per} plants in each row. {dead} plants die. "
         f"Each other plant gives {yld} tomatoes.")
    if tom % 4 == 0 and r.random() < 0.6:
        res = s.eq(f"{tom}/4", "That fills ", " boxes.")
        q += " The tomatoes are packed 4 to a box. How many boxes does she fill?"
    else:
        res = tom
        q += " How many tomatoes does she get?"
    return q, s, res


def bakery(r: random.Random) -> tuple[str, _Sol, int]:
    """Several orders of trays, total items, revenue, minus costs (4-8 steps)."""
    k = r.randint(2, 5)
    per_tray = r.randint(6, 24)
    trays = [r.randint(1, 6) for _ in range(k)]
    days = DAYS[:k]
    price = r.randint(1, 4)
    s = _Sol()
    counts = [s.eq(f"{t}*{per_tray}", f"On {d} the bakery makes ", " muffins.") for t, d in zip(trays, days)]
    tot = s.eq("+".join(map(str, counts)), "Altogether it makes ", " muffins.")
    rev = s.eq(f"{tot}*{price}", "It earns ", ".", "$")
    q = (f"A bakery bakes trays of {per_tray} muffins. " + " ".join(f"On {d} it bakes {t} trays." for d, t in zip(days, trays))
         + f" It sells every muffin for ${price}.")
    if r.random() < 0.5:
        cost = r.randint(1, rev - 1)
        rev = s.eq(f"{rev}-{cost}", "After paying for flour it keeps ", ".", "$")
        q += f" Flour costs ${cost}. How much money does the bakery keep?"
    else:
        q += " How much money does it earn?"
    return q, s, rev


TEMPLATES: dict[str, Callable[[random.Random], tuple[str, _Sol, int]]] = {
    f.__name__: f for f in (shopping, earnings, travel, ages, sharing, percent, minutes, savings, garden, bakery)
}


# ---- "mini" problems: short questions, small numbers, used in the order they appear (opt-in only; the
# default mix above is unchanged). They let a ~0.4M-parameter char-level model learn the task on a CPU.
def _mini_names(r: random.Random) -> tuple[str, tuple[str, str]]:
    return r.choice(NAMES), r.choice(ITEMS)


def mini_gain(r: random.Random) -> tuple[str, _Sol, int]:
    n, it = _mini_names(r)
    a, b = r.randint(2, 30), r.randint(2, 30)
    c = r.randint(1, a + b - 1)
    s = _Sol()
    t = s.eq(f"{a}+{b}", f"{n} has ", f" {it[1]}.")
    res = s.eq(f"{t}-{c}", "Now there are ", " left.")
    return f"{n} has {a} {it[1]}, gets {b} more and gives away {c}. How many are left?", s, res


def mini_boxes(r: random.Random) -> tuple[str, _Sol, int]:
    n, it = _mini_names(r)
    a, b = r.randint(2, 9), r.randint(2, 12)
    c = r.randint(1, a * b - 1)
    s = _Sol()
    t = s.eq(f"{a}*{b}", f"{n} has ", f" {it[1]}.")
    res = s.eq(f"{t}-{c}", "Now there are ", " left.")
    return f"{n} has {a} boxes of {b} {it[1]} and gives away {c}. How many are left?", s, res


def mini_share(r: random.Random) -> tuple[str, _Sol, int]:
    n, it = _mini_names(r)
    c, each = r.randint(2, 6), r.randint(2, 9)
    a = r.choice([k for k in range(2, 10) if (c * each) % k == 0] or [1])
    b = c * each // a
    s = _Sol()
    t = s.eq(f"{a}*{b}", f"{n} has ", f" {it[1]}.")
    res = s.eq(f"{t}/{c}", "Each friend gets ", ".")
    return f"{n} buys {a} packs of {b} {it[1]} and shares them among {c} friends. How many does each get?", s, res


def mini_change(r: random.Random) -> tuple[str, _Sol, int]:
    n, it = _mini_names(r)
    a, b = r.randint(2, 9), r.randint(2, 9)
    c = next(x for x in (10, 20, 50, 100) if x >= a * b)
    s = _Sol()
    t = s.eq(f"{a}*{b}", "They cost ", ".", "$")
    res = s.eq(f"{c}-{t}", "The change is ", ".", "$")
    return f"{n} buys {a} {it[1]} at ${b} each and pays ${c}. What is the change?", s, res


def mini_bags(r: random.Random) -> tuple[str, _Sol, int]:
    n, it = _mini_names(r)
    a, b, c = r.randint(2, 9), r.randint(2, 9), r.randint(2, 20)
    d = r.randint(1, a * b + c - 1)
    s = _Sol()
    t = s.eq(f"{a}*{b}", "The bags hold ", f" {it[1]}.")
    u = s.eq(f"{t}+{c}", f"{n} has ", ".")
    res = s.eq(f"{u}-{d}", "Now there are ", " left.")
    return f"{n} buys {a} bags of {b} {it[1]}, already has {c} and loses {d}. How many are left?", s, res


def mini_ages(r: random.Random) -> tuple[str, _Sol, int]:
    a_name, b_name = r.sample(NAMES, 2)
    a, b, c = r.randint(2, 40), r.randint(1, 30), r.randint(2, 20)
    s = _Sol()
    t = s.eq(f"{a}+{b}", f"{b_name} is ", ".")
    res = s.eq(f"{t}+{c}", f"In {c} years {b_name} will be ", ".")
    return f"{a_name} is {a}. {b_name} is {b} years older. How old will {b_name} be in {c} years?", s, res


def mini_trip(r: random.Random) -> tuple[str, _Sol, int]:
    n = r.choice(NAMES)
    a, b, c = r.randint(2, 9) * 10, r.randint(2, 6), r.randint(2, 60)
    s = _Sol()
    t = s.eq(f"{a}*{b}", "First ", " miles.")
    res = s.eq(f"{t}+{c}", "In all ", " miles.")
    return f"{n} drives {a} miles an hour for {b} hours, then {c} more miles. How far is that?", s, res


MINI_TEMPLATES: dict[str, Callable[[random.Random], tuple[str, _Sol, int]]] = {
    f.__name__: f for f in (mini_gain, mini_boxes, mini_share, mini_change, mini_bags, mini_ages, mini_trip)
}
ALL_TEMPLATES = {**TEMPLATES, **MINI_TEMPLATES}


def make_problem(seed: int, index: int, templates: list[str] | None = None, max_steps: int = 8) -> dict:
    """Record ``index`` of run ``seed``: ``{id, question, answer, template, steps}``, checked."""
    names = templates or list(TEMPLATES)
    for attempt in range(100):
        r = random.Random(f"wp:{seed}:{index}:{attempt}")
        name = r.choice(names)
        q, sol, final = ALL_TEMPLATES[name](r)
        if not 2 <= len(sol.lines) <= max_steps:
            continue
        answer = "\n".join(sol.lines) + f"\n#### {final}"
        res = check(answer, final)
        if not res.ok:  # a template bug: never write an unchecked trace
            raise AssertionError(f"template {name} produced a wrong trace: {res.errors[0]}\n{answer}")
        return {"id": f"wp-{seed}-{index}", "question": q, "answer": answer, "template": name, "steps": len(sol.lines)}
    raise RuntimeError(f"no problem with <= {max_steps} steps from templates {names}")


def generate_word_problems(n: int, seed: int = 0, templates: list[str] | None = None,
                           max_steps: int = 8) -> list[dict]:
    """``n`` distinct, checked word problems (same seed -> same list; a prefix of a larger run)."""
    if not 0 <= n <= MAX_PROBLEMS:
        raise InputError(f"--n {n}: at most {MAX_PROBLEMS} word problems (they are built in memory)")
    if templates:
        if templates == ["mini"]:
            templates = list(MINI_TEMPLATES)
        unknown = [t for t in templates if t not in ALL_TEMPLATES]
        if unknown:
            raise ValueError(f"unknown template(s) {unknown}; known: {', '.join(ALL_TEMPLATES)} (or 'mini')")
    out, seen = [], set()
    index = 0
    while len(out) < n:
        rec = make_problem(seed, index, templates, max_steps)
        index += 1
        if rec["question"] in seen:
            continue
        seen.add(rec["question"])
        rec["id"] = f"wp-{seed}-{len(out)}"
        out.append(rec)
        if index > 50 * n + 1000:
            raise InputError(f"--n {n}: these templates gave only {len(out)} distinct problems in {index} draws")
    return out
