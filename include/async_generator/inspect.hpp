// isasyncgen and isasyncgenfunction (Python's inspect functions, as async_generator exports them),
// as functions and as traits; and the trait of collections.abc.AsyncGenerator.
#ifndef ASYNC_GENERATOR_INSPECT_HPP
#define ASYNC_GENERATOR_INSPECT_HPP

#include <async_generator/async_generator.hpp>
#include <async_generator/detail/traits.hpp>
#include <async_generator/generator_function.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace async_generator {

/// True for this library's generators (`async_generator<Y, S, R>`), false for every other type.
template <class T>
struct is_async_generator : std::false_type {};
template <class Y, class S, class R>
struct is_async_generator<async_generator<Y, S, R>> : std::true_type {};

/// True for this library's generator functions (what `make_generator_function` returns), false for
/// everything else, including a callable that wraps one (Python's `functools.wraps` wrappers).
template <class T>
struct is_async_generator_function : std::false_type {};
template <class Y, class S, class R, class Body>
struct is_async_generator_function<generator_function<Y, S, R, Body>> : std::true_type {};

namespace detail {

template <class T, class = void>
struct send_type_of {
  using type = void;
};
template <class T>
struct send_type_of<T, void_t<typename T::send_type>> {
  using type = typename T::send_type;
};

template <class T, class Sent>
struct offers_asend : std::integral_constant<bool, std::is_void<Sent>::value || has_asend<T, probe_handler, Sent>::value> {};

template <class T, class = void>
struct offers_anext : std::false_type {};
template <class T>
struct offers_anext<T, void_t<decltype(std::declval<T&>().anext(probe_handler()))>> : std::true_type {};

}  // namespace detail

/// collections.abc.AsyncGenerator: a type that offers `anext(token)`, `athrow(exception_ptr, token)`,
/// `aclose(token)`, and `asend(value, token)` for its `send_type` (a type that declares no
/// `send_type`, or a void one, is sent nothing: its `anext` is Python's `asend(None)`).
template <class T>
struct is_async_generator_like
    : std::integral_constant<bool, detail::offers_anext<T>::value && detail::has_athrow<T, detail::probe_handler>::value &&
                                       detail::has_aclose<T, detail::probe_handler>::value &&
                                       detail::offers_asend<T, typename detail::send_type_of<T>::type>::value> {};

template <class T>
constexpr bool is_async_generator_v = is_async_generator<T>::value;
template <class T>
constexpr bool is_async_generator_function_v = is_async_generator_function<T>::value;
template <class T>
constexpr bool is_async_generator_like_v = is_async_generator_like<T>::value;

/// Python's `isasyncgen(obj)`.
template <class T>
constexpr bool isasyncgen(const T&) noexcept {
  return is_async_generator<T>::value;
}

/// Python's `isasyncgenfunction(obj)`.
template <class T>
constexpr bool isasyncgenfunction(const T&) noexcept {
  return is_async_generator_function<T>::value;
}

}  // namespace async_generator

#endif
