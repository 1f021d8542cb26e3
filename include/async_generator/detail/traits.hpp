// Compile-time detection of what a type offers, shared by the facilities that accept "anything
// with anext/asend/athrow/aclose" as Python accepts anything with those attributes.
#ifndef ASYNC_GENERATOR_DETAIL_TRAITS_HPP
#define ASYNC_GENERATOR_DETAIL_TRAITS_HPP

#include <async_generator/compat/asio.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

template <class...>
using void_t = void;

// What the delegate offers besides anext, detected as Python checks for the attributes.
template <class D, class Token, class Sent, class = void>
struct has_asend : std::false_type {};
template <class D, class Token, class Sent>
struct has_asend<D, Token, Sent, void_t<decltype(std::declval<D&>().asend(std::declval<Sent>(), std::declval<const Token&>()))>>
    : std::true_type {};
template <class D, class Token, class = void>
struct has_athrow : std::false_type {};
template <class D, class Token>
struct has_athrow<D, Token, void_t<decltype(std::declval<D&>().athrow(std::exception_ptr(), std::declval<const Token&>()))>>
    : std::true_type {};
template <class D, class Token, class = void>
struct has_aclose : std::false_type {};
template <class D, class Token>
struct has_aclose<D, Token, void_t<decltype(std::declval<D&>().aclose(std::declval<const Token&>()))>> : std::true_type {};

// A completion handler that accepts anything; used only in unevaluated operands.
struct probe_handler {
  template <class... Args>
  void operator()(Args&&...) const {}
};

template <class T, class = void>
struct has_executor : std::false_type {};
template <class T>
struct has_executor<T, void_t<decltype(asio::any_io_executor(std::declval<const T&>().get_executor()))>>
    : std::true_type {};

}  // namespace detail
}  // namespace async_generator

#endif
