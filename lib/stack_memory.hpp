// How generator stacks are made, kind by kind, and the pools that keep them for the next generators.
#ifndef ASYNC_GENERATOR_LIB_STACK_MEMORY_HPP
#define ASYNC_GENERATOR_LIB_STACK_MEMORY_HPP

#include "stack_header.hpp"

#include <async_generator/compat/fiber.hpp>

#include <cstddef>

namespace async_generator {
namespace detail {

std::size_t page_size() noexcept;

// Room at the top of every stack for its header; a stack of `usable` bytes gives its fiber that less.
constexpr std::size_t header_room = 64;
static_assert(sizeof(stack_header) <= header_room, "the stack header fits its room");

inline stack_header& header_of(const compat::stack_context& sctx) noexcept {
  return *static_cast<stack_header*>(sctx.sp);
}

// A stack of `kind` and `usable` bytes (whole pages, its header's room included) that a generator
// gave back, if there is one. Carved and canary stacks share a pool: a taken one becomes `kind`.
bool take_pooled(stack_kind kind, std::size_t usable, compat::stack_context& out) noexcept;
// Keeps the stack of a generator that ended for the next one of its pool and size; a guard mapping
// beyond the 1,024 kept is unmapped instead (carved stacks are parts of blocks that stay).
void give_back(compat::stack_context& sctx) noexcept;

// New stacks of `usable` bytes. Each throws stack_exhausted when memory, address space or the
// kernel's mappings run out, its message naming the limit and the option to change.
compat::stack_context map_guarded(std::size_t usable);
// Carved with a guard region below it; false, nothing made, when the kernel refuses the guard region.
bool carve_guarded(std::size_t usable, compat::stack_context& out);
// Carved with nothing below it, of `kind` carved or canary (whose canary the caller writes).
compat::stack_context carve(std::size_t usable, stack_kind kind);

// The guard mappings the library has made and not unmapped, pooled ones included.
std::size_t guard_mappings_live() noexcept;

}  // namespace detail
}  // namespace async_generator

#endif
