"""Random differential-testing scenarios: their data model, generator, text format and parser.

A scenario is one top-level async generator (gens[0]), the sub-generators it delegates to with
yield_from_ (gens[1:], valued mode only), and the consumer's operations on the top-level one.

Body steps are tuples:
  ('yield', v)            yield v, then record what was sent in
  ('await',)              a 0 ms timer / asyncio.sleep(0): a trip through the event loop
  ('raise', 'E1')         raise a named error (E1, E2, E3), or Stop (StopAsyncIteration)
  ('reraise',)            bare `raise` (only inside a handler)
  ('return', v)           return v (valued mode) / return (native mode)
  ('yieldfrom', k)        r = await yield_from_(gens[k]()), then record r (valued mode)
  ('try', body, handlers, final)
                          handlers: list of (kind, body), kind in E1 E2 E3 exit any
                          final: a body, or None when there is no finally
Operations: ('anext',), ('asend', v), ('athrow', kind) with kind in E1 E2 E3 exit Stop, ('aclose',).
The consumer always ends by dropping its handle (the last line of every trace comes from there).

Modes: 'native' scenarios run as native async generators in Python (no return values, no
delegation); 'valued' ones as @async_generator bodies (async_generator 1.10), with return values
and yield_from_; in C++ the former are async_generator<int, int, void>, the latter <int, int, int>.
"""
import random

ERRORS = ('E1', 'E2', 'E3')
HANDLER_KINDS = ERRORS + ('exit', 'any')
THROW_KINDS = ERRORS + ('exit', 'Stop')  # Stop: StopAsyncIteration / stop_async_iteration


class Scenario:
    def __init__(self, ident, mode, gens, ops, consumer='callback'):
        self.ident = ident
        self.mode = mode      # 'native' or 'valued'
        # How the C++ side consumes: 'callback' (completion handlers) or 'spawn' (an asio::spawn
        # coroutine, whose operations switch fibers directly). Python's consumer is a coroutine.
        self.consumer = consumer
        self.gens = gens      # list of bodies; gens[0] is the consumer's generator
        self.ops = ops        # list of operation tuples

    def copy_with(self, gens=None, ops=None, consumer=None):
        return Scenario(self.ident, self.mode, self.gens if gens is None else gens,
                        self.ops if ops is None else ops, consumer or self.consumer)


class _Builder:
    """Random bodies. Values are unique per scenario so a trace line tells which step made it."""

    def __init__(self, rng, mode):
        self.rng = rng
        self.mode = mode
        self.next_value = 1
        self.gen_count = 1

    def value(self):
        v = self.next_value
        self.next_value += 1
        return v

    def body(self, depth, delegate, in_handler, gen_index, length=None):
        rng = self.rng
        n = rng.randint(0, 4) if length is None else length
        return [self.step(depth, delegate, in_handler, gen_index) for _ in range(n)]

    def step(self, depth, delegate, in_handler, gen_index):
        rng = self.rng
        choices = ['yield'] * 6 + ['await'] * 2 + ['raise', 'return']
        if depth < 2:
            choices += ['try'] * 3
        if in_handler:
            choices.append('reraise')
        # Delegation: acyclic (only to later generators), at most 3 generators per scenario.
        if self.mode == 'valued' and gen_index + 1 < 3 and rng.random() < 0.5:
            choices += ['yieldfrom']
        kind = rng.choice(choices)
        if kind == 'yield':
            return ('yield', self.value())
        if kind == 'await':
            return ('await',)
        if kind == 'raise':
            # Now and then a StopAsyncIteration, which must not end the iteration (PEP 479).
            return ('raise', 'Stop' if rng.random() < 0.1 else rng.choice(ERRORS))
        if kind == 'reraise':
            return ('reraise',)
        if kind == 'return':
            return ('return', self.value())
        if kind == 'yieldfrom':
            return ('yieldfrom', self.sub_generator(gen_index))
        return self.try_block(depth, delegate, in_handler, gen_index)

    def sub_generator(self, parent_index):
        # Sub-generators are numbered after the parent; the scenario's list is filled in later.
        index = max(self.gen_count, parent_index + 1)
        self.gen_count = index + 1
        return index

    def try_block(self, depth, delegate, in_handler, gen_index):
        rng = self.rng
        body = self.body(depth + 1, delegate, in_handler, gen_index, length=rng.randint(1, 3))
        handlers = []
        for kind in rng.sample(HANDLER_KINDS, rng.choice((0, 1, 1, 2))):
            handlers.append((kind, self.handler_body(kind, depth, delegate, gen_index)))
        final = None
        if not handlers or rng.random() < 0.4:
            final = self.finally_body(depth, delegate, in_handler, gen_index)
        return ('try', body, handlers, final)

    # A delegate must never survive its yield_from_: if its cleanup (for GeneratorExit) yielded, it
    # would stay suspended and be finalized whenever the Python garbage collector gets to the
    # traceback holding it, which has no C++ counterpart to compare with. Its cleanup must not
    # await either: async_generator 1.10 fails that ("coroutine ignored GeneratorExit"), a
    # documented difference (README) the library does not copy.
    def handler_body(self, kind, depth, delegate, gen_index):
        if delegate and kind in ('exit', 'any'):
            return [self.rng.choice((('reraise',), ('return', self.value())))]
        return self.body(depth + 1, delegate, True, gen_index)

    def finally_body(self, depth, delegate, in_handler, gen_index):
        if delegate:
            return self.rng.choice(([], [('return', self.value())]))
        return self.body(depth + 1, delegate, in_handler, gen_index)


def generate(seed, ident):
    """The scenario for (seed, ident): the same pair always gives the same scenario."""
    rng = random.Random(seed * 1_000_003 + ident)
    mode = 'valued' if rng.random() < 0.5 else 'native'
    builder = _Builder(rng, mode)
    gens = {0: builder.body(0, False, False, 0, length=rng.randint(1, 6))}
    # Bodies of the sub-generators referenced so far (numbering grows as they are built).
    index = 1
    while index < builder.gen_count:
        gens[index] = builder.body(0, True, False, index, length=rng.randint(0, 4))
        index += 1
    ops = []
    for _ in range(rng.randint(1, 8)):
        kind = rng.choice(('anext', 'anext', 'anext', 'asend', 'athrow', 'aclose'))
        if kind == 'asend':
            ops.append(('asend', 100 + len(ops)))
        elif kind == 'athrow':
            ops.append(('athrow', rng.choice(THROW_KINDS)))
        else:
            ops.append((kind,))
    consumer = rng.choice(('callback', 'spawn'))
    return Scenario(ident, mode, [gens[i] for i in range(len(gens))], ops, consumer)


# ---- text format: what the C++ interpreter reads, and what regression files hold ----------------
#
#   scenario <id> <native|valued> <callback|spawn>
#   gen <k>               (then its body, one step per line, blocks closed by 'end')
#   try / except <kind> / finally / end
#   yield <v> | await | raise <E> | reraise | return <v> | yieldfrom <k>
#   ops <op> <op> ...     (anext, asend:<v>, athrow:<kind>, aclose)
#   endscenario

def _body_lines(body, indent, out):
    pad = '  ' * indent
    for step in body:
        if step[0] == 'try':
            _, inner, handlers, final = step
            out.append(pad + 'try')
            _body_lines(inner, indent + 1, out)
            for kind, handler in handlers:
                out.append(pad + 'except ' + kind)
                _body_lines(handler, indent + 1, out)
            if final is not None:
                out.append(pad + 'finally')
                _body_lines(final, indent + 1, out)
            out.append(pad + 'end')
        else:
            out.append(pad + ' '.join(str(part) for part in step))


def serialise(scenario):
    out = ['scenario %d %s %s' % (scenario.ident, scenario.mode, scenario.consumer)]
    for k, body in enumerate(scenario.gens):
        out.append('gen %d' % k)
        _body_lines(body, 1, out)
    words = []
    for op in scenario.ops:
        words.append(op[0] if len(op) == 1 else '%s:%s' % op)
    out.append('ops ' + ' '.join(words))
    out.append('endscenario')
    return '\n'.join(out) + '\n'


def _parse_body(lines, pos):
    """Steps from lines[pos] up to a line that closes the block; returns (body, pos of that line)."""
    body = []
    while pos < len(lines):
        words = lines[pos].split()
        head = words[0]
        if head in ('except', 'finally', 'end', 'gen', 'ops'):
            return body, pos
        if head == 'try':
            inner, pos = _parse_body(lines, pos + 1)
            handlers, final = [], None
            while lines[pos].split()[0] == 'except':
                kind = lines[pos].split()[1]
                handler, pos = _parse_body(lines, pos + 1)
                handlers.append((kind, handler))
            if lines[pos].split()[0] == 'finally':
                final, pos = _parse_body(lines, pos + 1)
            assert lines[pos].split()[0] == 'end', lines[pos]
            body.append(('try', inner, handlers, final))
        elif head in ('yield', 'return', 'yieldfrom'):
            body.append((head, int(words[1])))
        elif head == 'raise':
            body.append((head, words[1]))
        else:
            body.append((head,))
        pos += 1
    return body, pos


def parse(text):
    """The scenarios of a text in the format above (comment lines start with '#')."""
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith('#')]
    scenarios, pos = [], 0
    while pos < len(lines):
        _, ident, mode, consumer = lines[pos].split()
        pos += 1
        gens = []
        while lines[pos].split()[0] == 'gen':
            body, pos = _parse_body(lines, pos + 1)
            gens.append(body)
        ops = []
        for word in lines[pos].split()[1:]:
            name, _, arg = word.partition(':')
            ops.append((name,) if not arg else (name, int(arg) if name == 'asend' else arg))
        assert lines[pos + 1] == 'endscenario'
        pos += 2
        scenarios.append(Scenario(int(ident), mode, gens, ops, consumer))
    return scenarios
