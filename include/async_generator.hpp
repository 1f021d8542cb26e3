// async_generator for C++: Python's async generators (PEP 525) on Boost.Context fibers and
// Boost.Asio executors. Including this header includes every public facility.
#ifndef ASYNC_GENERATOR_HPP
#define ASYNC_GENERATOR_HPP

#include <async_generator/aclosing.hpp>
#include <async_generator/async_for.hpp>
#include <async_generator/async_generator.hpp>
#include <async_generator/async_with.hpp>
#include <async_generator/asyncgen_service.hpp>
#include <async_generator/asynccontextmanager.hpp>
#include <async_generator/context.hpp>
#include <async_generator/errors.hpp>
#include <async_generator/generator_function.hpp>
#include <async_generator/hooks.hpp>
#include <async_generator/inspect.hpp>
#include <async_generator/stack.hpp>
#include <async_generator/unraisable.hpp>
#include <async_generator/yield.hpp>
#include <async_generator/yield_from.hpp>

#endif
