"""The Python side of the differential test: runs scenarios with Python's own async generators.

Each scenario's bodies are turned into Python source (native `async def ... yield` in 'native'
mode, `@async_generator` with `await yield_(v)` and `await yield_from_(...)` in 'valued' mode),
executed on one asyncio loop (whose asyncgen hooks finalize dropped generators, as the library's
default drop policy does), and traced in the format the C++ interpreter prints.

Where async_generator 1.10 differs from native CPython, the project follows native semantics
(reference, decisions box, item 1): run.py's normalise_python() maps those differences, and the
documented differences of the library, in one place. This file prints what Python does.
"""
import asyncio
import gc
import sys
import warnings
import weakref

from async_generator import async_generator, yield_, yield_from_

# ag 1.10 uses the deprecated 3-argument throw() on Python 3.12+; irrelevant to the traces.
warnings.simplefilter('ignore', DeprecationWarning)


class E1(Exception):
    pass


class E2(Exception):
    pass


class E3(Exception):
    pass


ERROR_TYPES = {'E1': E1, 'E2': E2, 'E3': E3, 'Stop': StopAsyncIteration}
HANDLER_TYPES = {'E1': 'E1', 'E2': 'E2', 'E3': 'E3', 'exit': 'GeneratorExit', 'any': 'BaseException'}


def describe(exc):
    """An exception as the traces show it (the C++ interpreter's describe() prints the same)."""
    if isinstance(exc, (E1, E2, E3)):
        return type(exc).__name__
    if isinstance(exc, (GeneratorExit, StopAsyncIteration)):
        return type(exc).__name__
    if isinstance(exc, (RuntimeError, TypeError)):
        return '%s: %s' % (type(exc).__name__, exc)
    return 'other %s: %s' % (type(exc).__name__, exc)


def _source_lines(body, g, valued, indent, out):
    """Python statements for `body` of generator number g, appended to out."""
    pad = '    ' * indent
    if not body:
        out.append(pad + 'pass')
    for step in body:
        kind = step[0]
        if kind == 'yield':
            expr = 'await yield_(%d)' % step[1] if valued else 'yield %d' % step[1]
            out.append(pad + '_sent = %s' % expr)
            out.append(pad + 'T.append("g%d got %%s" %% _sent)' % g)
        elif kind == 'await':
            out.append(pad + 'await asyncio.sleep(0)')
            out.append(pad + 'T.append("g%d awaited")' % g)
        elif kind == 'raise':
            out.append(pad + 'raise %s()' % ERROR_TYPES[step[1]].__name__)
        elif kind == 'reraise':
            out.append(pad + 'raise')
        elif kind == 'return':
            out.append(pad + ('return %d' % step[1] if valued else 'return'))
        elif kind == 'yieldfrom':
            out.append(pad + '_r = await yield_from_(g%d())' % step[1])
            out.append(pad + 'T.append("g%d delegate returned %%s" %% _r)' % g)
        else:
            _, inner, handlers, final = step
            out.append(pad + 'try:')
            _source_lines(inner, g, valued, indent + 1, out)
            for handler_kind, handler in handlers:
                out.append(pad + 'except %s:' % HANDLER_TYPES[handler_kind])
                out.append(pad + '    T.append("g%d caught %s")' % (g, handler_kind))
                _source_lines(handler, g, valued, indent + 1, out)
            if final is not None:
                out.append(pad + 'finally:')
                out.append(pad + '    T.append("g%d finally")' % g)
                _source_lines(final, g, valued, indent + 1, out)


def source_of(scenario):
    """The Python module text defining g0, g1, ... for the scenario."""
    valued = scenario.mode == 'valued'
    out = []
    for g, body in enumerate(scenario.gens):
        if valued:
            out.append('@async_generator')
        out.append('async def g%d():' % g)
        out.append('    T.append("g%d started")' % g)
        _source_lines(body, g, valued, 1, out)
        if valued:
            out.append('    return 0')  # the scenario language: a valued body that ends returns 0
        elif not any(True for _ in _yields(body)):
            # A native function is a generator only if it yields somewhere.
            out.append('    if False: yield')
    return '\n'.join(out) + '\n'


def _yields(body):
    for step in body:
        if step[0] == 'yield':
            yield step
        elif step[0] == 'try':
            yield from _yields(step[1])
            for _, handler in step[2]:
                yield from _yields(handler)
            if step[3] is not None:
                yield from _yields(step[3])


def _stop_text(stop, valued):
    # async_generator's first StopAsyncIteration carries the return value (args (r,)), later ones
    # are empty, as the library's stop_async_iteration; native ones are always empty.
    if valued and stop.args:
        return 'stop %s' % stop.args[0]
    return 'stop'


async def _operation(gen, op, valued):
    """Runs one consumer operation; returns its trace text."""
    name = op[0]
    try:
        if name == 'aclose':
            await gen.aclose()
            return 'ok'
        if name == 'athrow':
            exc = GeneratorExit() if op[1] == 'exit' else ERROR_TYPES[op[1]]()
            return 'value %s' % await gen.athrow(exc)
        if name == 'asend':
            return 'value %s' % await gen.asend(op[1])
        return 'value %s' % await gen.__anext__()
    except StopAsyncIteration as stop:
        return _stop_text(stop, valued)
    except BaseException as exc:  # GeneratorExit too: athrow(GeneratorExit) lets it out
        return 'raised ' + describe(exc)


async def run_scenario(scenario, trace):
    """Runs one scenario on the running loop, appending its trace lines to `trace`."""
    valued = scenario.mode == 'valued'
    namespace = {'T': trace, 'asyncio': asyncio, 'async_generator': async_generator,
                 'yield_': yield_, 'yield_from_': yield_from_,
                 'E1': E1, 'E2': E2, 'E3': E3}  # StopAsyncIteration is a builtin
    exec(compile(source_of(scenario), '<scenario %d>' % scenario.ident, 'exec'), namespace)
    gen = namespace['g0']()
    for op in scenario.ops:
        # async_generator 1.10 raises some errors when the operation is called, not awaited
        # (reference 1.5.2): the trace cannot tell, and _operation catches both.
        text = await _operation(gen, op, valued)
        trace.append('op %s -> %s' % (':'.join(str(part) for part in op), text))
    # Drop the handle: asyncio's finalizer hook schedules aclose() as a task on the loop (with
    # call_soon_threadsafe); wait until that task has finished and is gone, its error, if any,
    # reported to the loop's exception handler ("Task exception was never retrieved").
    trace.append('op drop')
    alive = weakref.ref(gen)  # cleared as soon as the generator's deallocation starts
    del gen
    if alive() is not None:
        gc.collect()  # kept alive by a reference cycle (a traceback holding its frame)
    mark = len(trace)
    await _wait_for_other_tasks(trace)
    if any(line.startswith(('finalize error', 'unraisable')) for line in trace[mark:]):
        # A failed close leaves the generator suspended, held by the error's traceback until the
        # collector breaks the cycle; the library releases it at once. Collect now, so that its
        # last finalization (a synchronous close: it is marked closed) is traced here too.
        gc.collect()
        await _wait_for_other_tasks(trace)


async def _wait_for_other_tasks(trace):
    await asyncio.sleep(0)  # runs the hook's call_soon_threadsafe callback, creating the task
    for _ in range(10000):
        if len(asyncio.all_tasks()) == 1:  # only this one
            return
        await asyncio.sleep(0)
    trace.append('finalization never ended')


def _exception_handler(trace):
    def handler(loop, context):
        # The failed close of a dropped generator: the aclose() task's exception, never retrieved.
        exc = context.get('exception')
        trace.append('finalize error ' + (describe(exc) if exc else context.get('message', '?')))
    return handler


def run_all(scenarios):
    """{ident: [trace lines]} for the scenarios, all on one asyncio loop."""
    traces = {}

    async def main():
        loop = asyncio.get_running_loop()
        for scenario in scenarios:
            trace = traces.setdefault(scenario.ident, [])
            loop.set_exception_handler(_exception_handler(trace))
            sys.unraisablehook = lambda u, trace=trace: trace.append('unraisable ' + describe(u.exc_value))
            await run_scenario(scenario, trace)

    previous_hook = sys.unraisablehook
    # The collections run_scenario needs (a generator suspended in an except block is in a cycle
    # through its own frame's handled exception) then only scan the objects made since.
    gc.freeze()
    try:
        asyncio.run(main())
    finally:
        sys.unraisablehook = previous_hook
        gc.unfreeze()
    return traces
