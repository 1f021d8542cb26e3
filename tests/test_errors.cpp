// errors.hpp: the exception types, and Python's messages.
#include "support.hpp"

#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>

TEST_CASE("a default stop_async_iteration carries no value and value<R> throws std::bad_cast") {
  const ag::stop_async_iteration stop;
  CHECK_FALSE(stop.has_value());
  CHECK_THROWS_AS(stop.value<int>(), std::bad_cast);
  CHECK(std::string(stop.what()) == "StopAsyncIteration");
}

TEST_CASE("a stop_async_iteration made with a value returns it from value<R> of that exact type") {
  const ag::stop_async_iteration stop(std::string("done"));
  CHECK(stop.has_value());
  CHECK(stop.value<std::string>() == "done");
  CHECK(std::string(stop.what()) == "StopAsyncIteration");

  const ag::stop_async_iteration number(42);
  REQUIRE(number.has_value());
  CHECK(number.value<int>() == 42);
}

TEST_CASE("stop_async_iteration::value<R> with the wrong type throws std::bad_cast") {
  const ag::stop_async_iteration stop(42);
  CHECK_THROWS_AS(stop.value<long>(), std::bad_cast);
  CHECK_THROWS_AS(stop.value<unsigned>(), std::bad_cast);
  CHECK_THROWS_AS(stop.value<std::string>(), std::bad_cast);
}

TEST_CASE("a copied stop_async_iteration carries the same value") {
  const ag::stop_async_iteration original(std::string("kept"));
  const ag::stop_async_iteration copy(original);
  REQUIRE(copy.has_value());
  CHECK(copy.value<std::string>() == "kept");
}

TEST_CASE("stop_async_iteration is a std::exception") {
  static_assert(std::is_base_of<std::exception, ag::stop_async_iteration>::value, "StopAsyncIteration is an Exception");
  bool caught = false;
  try {
    throw ag::stop_async_iteration();
  } catch (const std::exception& e) {
    caught = std::string(e.what()) == "StopAsyncIteration";
  }
  CHECK(caught);
}

TEST_CASE("generator_exit is not a std::exception, so catch (const std::exception&) does not catch it") {
  static_assert(!std::is_base_of<std::exception, ag::generator_exit>::value,
                "GeneratorExit derives from BaseException, not Exception");
  std::string caught_by;
  try {
    try {
      throw ag::generator_exit();
    } catch (const std::exception&) {
      caught_by = "std::exception";
    }
  } catch (const ag::generator_exit& e) {
    caught_by = e.what();
  }
  CHECK(caught_by == "GeneratorExit");
}

TEST_CASE("a body's catch (const std::exception&) does not swallow the generator_exit of aclose") {
  asio::io_context io;
  std::string seen;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const std::exception&) {
      seen = "std::exception";
    } catch (const ag::generator_exit&) {
      seen = "generator_exit";
      throw;
    }
  });
  CHECK(anext(io, g).value == 1);
  CHECK_FALSE(aclose(io, g));
  CHECK(seen == "generator_exit");
}

TEST_CASE("runtime_error has no cause unless given one, and is a std::runtime_error") {
  const ag::runtime_error plain("boom");
  CHECK(std::string(plain.what()) == "boom");
  CHECK_FALSE(plain.cause());
  static_assert(std::is_base_of<std::runtime_error, ag::runtime_error>::value, "RuntimeError is a std::runtime_error");

  const std::exception_ptr original = std::make_exception_ptr(std::out_of_range("original"));
  const ag::runtime_error chained("raised from", original);
  CHECK(chained.cause() == original);
  CHECK(message_of<std::out_of_range>(chained.cause()) == "original");
}

TEST_CASE("type_error carries its message and is a std::invalid_argument") {
  const ag::type_error e("bad type");
  CHECK(std::string(e.what()) == "bad type");
  static_assert(std::is_base_of<std::invalid_argument, ag::type_error>::value, "TypeError is a std::invalid_argument");
}

TEST_CASE("empty_generator_error and misuse_error are std::logic_errors with their messages") {
  const ag::empty_generator_error empty;
  CHECK(std::string(empty.what()) == "operation on an empty async_generator (default-constructed or moved from)");
  static_assert(std::is_base_of<std::logic_error, ag::empty_generator_error>::value, "a programming error");
  const ag::misuse_error misuse("misused");
  CHECK(std::string(misuse.what()) == "misused");
  static_assert(std::is_base_of<std::logic_error, ag::misuse_error>::value, "a programming error");
}

TEST_CASE("the messages in errors:: are CPython 3.13's, verbatim") {
  CHECK(std::string(ag::errors::anext_running) == "anext(): asynchronous generator is already running");
  CHECK(std::string(ag::errors::athrow_running) == "athrow(): asynchronous generator is already running");
  CHECK(std::string(ag::errors::aclose_running) == "aclose(): asynchronous generator is already running");
  CHECK(std::string(ag::errors::send_to_unstarted) == "can't send non-None value to a just-started async generator");
  CHECK(std::string(ag::errors::ignored_generator_exit) == "async generator ignored GeneratorExit");
  CHECK(std::string(ag::errors::raised_stop_async_iteration) == "async generator raised StopAsyncIteration");
}

TEST_CASE("cause_of gives a runtime_error's cause, a std::nested_exception's nested exception, and null otherwise") {
  const auto original = std::make_exception_ptr(std::domain_error("ZeroDivisionError"));
  CHECK(ag::cause_of(std::make_exception_ptr(ag::runtime_error("chained", original))) == original);
  std::exception_ptr nested;
  try {
    try {
      std::rethrow_exception(original);
    } catch (...) {
      std::throw_with_nested(std::runtime_error("issue29692:Chained"));
    }
  } catch (...) {
    nested = std::current_exception();
  }
  CHECK(ag::cause_of(nested) == original);
  std::exception_ptr nested_library_error;
  try {
    try {
      std::rethrow_exception(original);
    } catch (...) {
      std::throw_with_nested(ag::runtime_error("chained"));
    }
  } catch (...) {
    nested_library_error = std::current_exception();
  }
  CHECK(ag::cause_of(nested_library_error) == original);
  CHECK_FALSE(ag::cause_of(std::make_exception_ptr(ag::runtime_error("no cause"))));
  CHECK_FALSE(ag::cause_of(original));
  CHECK_FALSE(ag::cause_of(nullptr));
}
