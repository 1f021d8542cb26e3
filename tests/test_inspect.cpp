// isasyncgen, isasyncgenfunction and the AsyncGenerator trait: twins of async_generator 1.10's
// test_isasyncgen, test_isasyncgenfunction, test_isasyncgenfunction_is_not_inherited_by_wrappers
// and test_collections_abc_AsyncGenerator. Python's native objects have no C++ counterpart; what
// test_isasyncgen and test_isasyncgenfunction check about them is checked here for this library's
// objects.
#include "support.hpp"

#include <list>
#include <type_traits>

namespace {

const auto arange = ag::make_generator_function<int>([](ag::context<int> co, int n) {
  for (int i = 0; i < n; ++i) ag::yield_(co, i);
});

// A class that offers the four operations without being this library's generator.
struct handmade_generator {
  using send_type = int;
  template <class Token>
  void anext(Token&&) {}
  template <class Token>
  void asend(int, Token&&) {}
  template <class Token>
  void athrow(std::exception_ptr, Token&&) {}
  template <class Token>
  void aclose(Token&&) {}
};

// The same without asend, which it declares it needs.
struct without_asend {
  using send_type = int;
  template <class Token>
  void anext(Token&&) {}
  template <class Token>
  void athrow(std::exception_ptr, Token&&) {}
  template <class Token>
  void aclose(Token&&) {}
};

// An async iterator with aclose only (what yield_from_ and aclosing accept).
struct iterator_with_aclose {
  template <class Token>
  void anext(Token&&) {}
  template <class Token>
  void aclose(Token&&) {}
};

}  // namespace

TEST_CASE("test_isasyncgen: true for a generator, false for its generator function") {
  asio::io_context io;
  auto gen = arange(io, 3);
  CHECK_FALSE(ag::isasyncgen(arange));
  CHECK(ag::isasyncgen(gen));
  CHECK_FALSE(ag::isasyncgen(42));
  static_assert(ag::is_async_generator<ag::async_generator<int, int, std::string>>::value, "");
  static_assert(ag::is_async_generator_v<decltype(gen)>, "");
  static_assert(!ag::is_async_generator_v<decltype(arange)>, "");
  static_assert(!ag::is_async_generator_v<handmade_generator>, "");
}

TEST_CASE("test_isasyncgenfunction: true for a generator function only") {
  asio::io_context io;
  auto gen = arange(io, 3);
  CHECK(ag::isasyncgenfunction(arange));
  CHECK_FALSE(ag::isasyncgenfunction(std::list<int>()));
  CHECK_FALSE(ag::isasyncgenfunction(gen));
  static_assert(ag::is_async_generator_function_v<std::decay_t<decltype(arange)>>, "");
  static_assert(!ag::is_async_generator_function_v<ag::async_generator<int>>, "");
}

TEST_CASE("test_isasyncgenfunction_is_not_inherited_by_wrappers: a callable wrapping a generator function is not one") {
  auto wrapper = [](auto&&... args) { return arange(std::forward<decltype(args)>(args)...); };
  CHECK_FALSE(ag::isasyncgenfunction(wrapper));
  CHECK(ag::isasyncgenfunction(arange));
  // Python's __wrapped__: the body a generator function was made from is not one either.
  CHECK_FALSE(ag::isasyncgenfunction(arange.wrapped()));
  asio::io_context io;
  auto gen = wrapper(io, 2);
  CHECK(collect(io, gen) == std::vector<int>{0, 1});
}

TEST_CASE("test_collections_abc_AsyncGenerator: generators model AsyncGenerator, as does any class with its four operations") {
  static_assert(ag::is_async_generator_like_v<ag::async_generator<int>>, "");
  static_assert(ag::is_async_generator_like_v<ag::async_generator<int, std::string, double>>, "");
  static_assert(ag::is_async_generator_like_v<ag::async_generator<void>>, "");
  static_assert(ag::is_async_generator_like_v<handmade_generator>, "");
  static_assert(!ag::is_async_generator_like_v<without_asend>, "");
  static_assert(!ag::is_async_generator_like_v<iterator_with_aclose>, "");
  static_assert(!ag::is_async_generator_like_v<int>, "");
  static_assert(!ag::is_async_generator_like_v<std::decay_t<decltype(arange)>>, "");
  CHECK(ag::is_async_generator_like<ag::async_generator<int>>::value);
}
