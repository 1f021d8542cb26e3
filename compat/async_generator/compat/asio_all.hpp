// Portability layer for programs that build on either Asio, as this project's tests, examples and
// benchmarks do: all of the Asio in use (what <boost/asio.hpp> or <asio.hpp> gives, with spawn and
// the experimental facilities the version has), named `::asio` as standalone Asio is named. Not
// included by the library's own headers: a Boost.Asio program may not want the global alias.
#ifndef ASYNC_GENERATOR_COMPAT_ASIO_ALL_HPP
#define ASYNC_GENERATOR_COMPAT_ASIO_ALL_HPP

#include <async_generator/compat/asio.hpp>

#if ASYNC_GENERATOR_STANDALONE_ASIO
#include <asio.hpp>
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
#include <asio/spawn.hpp>
#include <asio/experimental/channel.hpp>
#endif
#if ASYNC_GENERATOR_HAS_CANCELLATION
#include <asio/experimental/parallel_group.hpp>
#endif
#if ASYNC_GENERATOR_HAS_CO_AWAIT
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/coro.hpp>
#endif
#else
#include <boost/asio.hpp>
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
#include <boost/asio/spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#endif
#if ASYNC_GENERATOR_HAS_CANCELLATION
#include <boost/asio/experimental/parallel_group.hpp>
#endif
#if ASYNC_GENERATOR_HAS_CO_AWAIT
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/coro.hpp>
#endif
namespace asio = ::boost::asio;
#endif

#endif
