"""Shrinks a diverging scenario: greedily applies the first simplification that keeps it diverging,
until none does (delta debugging, one element at a time: scenarios are small)."""


def _body_variants(body):
    """Every body one simplification away from `body`, smaller ones first."""
    for i, step in enumerate(body):
        yield body[:i] + body[i + 1:]  # drop the step
    for i, step in enumerate(body):
        if step[0] != 'try':
            continue
        _, inner, handlers, final = step
        yield body[:i] + inner + body[i + 1:]  # the try block's statements without the try
        for j in range(len(handlers)):
            rest = handlers[:j] + handlers[j + 1:]
            if rest or final is not None:  # `try:` needs an except or a finally
                yield body[:i] + [('try', inner, rest, final)] + body[i + 1:]
        if final is not None and handlers:
            yield body[:i] + [('try', inner, handlers, None)] + body[i + 1:]
        for smaller in _body_variants(inner):
            yield body[:i] + [('try', smaller, handlers, final)] + body[i + 1:]
        for j, (kind, handler) in enumerate(handlers):
            for smaller in _body_variants(handler):
                changed = handlers[:j] + [(kind, smaller)] + handlers[j + 1:]
                yield body[:i] + [('try', inner, changed, final)] + body[i + 1:]
        if final is not None:
            for smaller in _body_variants(final):
                yield body[:i] + [('try', inner, handlers, smaller)] + body[i + 1:]


def _referenced(body):
    for step in body:
        if step[0] == 'yieldfrom':
            yield step[1]
        elif step[0] == 'try':
            yield from _referenced(step[1])
            for _, handler in step[2]:
                yield from _referenced(handler)
            if step[3] is not None:
                yield from _referenced(step[3])


def _variants(scenario):
    if scenario.consumer != 'callback':
        yield scenario.copy_with(consumer='callback')  # the plainer consumer, when it shows it too
    last = len(scenario.gens) - 1
    if last > 0 and all(last not in _referenced(body) for body in scenario.gens):
        yield scenario.copy_with(gens=scenario.gens[:last])  # an unused sub-generator
    for i in range(len(scenario.ops)):
        yield scenario.copy_with(ops=scenario.ops[:i] + scenario.ops[i + 1:])
    for k, body in enumerate(scenario.gens):
        for smaller in _body_variants(body):
            yield scenario.copy_with(gens=scenario.gens[:k] + [smaller] + scenario.gens[k + 1:])


def shrink(scenario, still_diverges, budget=2000):
    """The smallest scenario reached from `scenario` for which still_diverges() holds."""
    tries = 0
    progress = True
    while progress and tries < budget:
        progress = False
        for candidate in _variants(scenario):
            tries += 1
            if still_diverges(candidate):
                scenario = candidate
                progress = True
                break
            if tries >= budget:
                break
    return scenario
