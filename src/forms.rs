//! The free casts between the two forms of one instance.
//!
//! Each primitive's async type and blocking type are `#[repr(transparent)]` wrappers of the
//! same state type, so a reference (or an `Arc`) to one is a valid reference to the other.
//! These casts are the crate's only `unsafe` outside the waiting core.

use std::sync::Arc;

/// Marks a `#[repr(transparent)]` wrapper of the state type `Self::State`.
///
/// # Safety
/// `Self` must be `#[repr(transparent)]` over exactly one field of type `Self::State`, with
/// no other fields (not even zero-sized ones with alignment) and no `Drop` impl.
pub(crate) unsafe trait Form {
    type State;
}

// SAFETY: a type is trivially a transparent wrapper of itself; this lets an `Arc` of any
// permit-based primitive become the `Arc<Permits>` inside an owned guard.
unsafe impl Form for crate::wait::Permits {
    type State = crate::wait::Permits;
}

/// Reinterpret `&A` as `&B`.
pub(crate) fn cast_ref<A, B>(a: &A) -> &B
where
    A: Form,
    B: Form<State = A::State>,
{
    // SAFETY: by `Form`'s contract, `A` and `B` are both `#[repr(transparent)]` over the same
    // `State`, so they have its layout and validity; the lifetime is carried over unchanged.
    unsafe { &*(a as *const A as *const B) }
}

/// Reinterpret `Arc<A>` as `Arc<B>`.
pub(crate) fn cast_arc<A, B>(a: Arc<A>) -> Arc<B>
where
    A: Form,
    B: Form<State = A::State>,
{
    // SAFETY: `A` and `B` have one layout (see `cast_ref`), so the `ArcInner` allocation made
    // for `A` is a valid `ArcInner<B>` with the same size and alignment, and dropping it as
    // `B` runs the same drop glue (that of `State`; neither wrapper has a `Drop`).
    unsafe { Arc::from_raw(Arc::into_raw(a) as *const B) }
}

/// Give a primitive's two forms `blocking()`/`as_async()` and `into_blocking()`/`into_async()`.
macro_rules! two_forms {
    ($async:ident, $blocking:path, $state:ty, $name:literal, $ctor:expr) => {
        // SAFETY: both forms are `#[repr(transparent)]` over `$state` alone, with no `Drop`.
        unsafe impl $crate::forms::Form for $async {
            type State = $state;
        }
        // SAFETY: as above.
        unsafe impl $crate::forms::Form for $blocking {
            type State = $state;
        }

        impl $async {
            #[doc = concat!("This instance's blocking form: the same ", $name, ", with methods that block the calling thread. Free: no copy, no allocation.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = threading::", $ctor, ";")]
            /// let b = x.blocking();
            /// assert!(std::ptr::eq(b.as_async(), &x));
            /// ```
            #[inline]
            pub fn blocking(&self) -> &$blocking {
                $crate::forms::cast_ref(self)
            }

            #[doc = concat!("Turn an `Arc` of this ", $name, " into an `Arc` of its blocking form (the same allocation).")]
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            #[doc = concat!("let x = Arc::new(threading::", $ctor, ");")]
            /// let b = x.clone().into_blocking();
            /// assert!(std::ptr::eq(b.as_async(), &*x));
            /// ```
            #[inline]
            pub fn into_blocking(self: std::sync::Arc<Self>) -> std::sync::Arc<$blocking> {
                $crate::forms::cast_arc(self)
            }
        }

        impl $blocking {
            #[doc = concat!("This instance's async form: the same ", $name, ", with methods that return futures. Free: no copy, no allocation.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let x = threading::blocking::", $ctor, ";")]
            /// let a = x.as_async();
            /// assert!(std::ptr::eq(a.blocking(), &x));
            /// ```
            #[inline]
            pub fn as_async(&self) -> &$async {
                $crate::forms::cast_ref(self)
            }

            #[doc = concat!("Turn an `Arc` of this blocking ", $name, " into an `Arc` of its async form (the same allocation).")]
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            #[doc = concat!("let x = Arc::new(threading::blocking::", $ctor, ");")]
            /// let a = x.clone().into_async();
            /// assert!(std::ptr::eq(a.blocking(), &*x));
            /// ```
            #[inline]
            pub fn into_async(self: std::sync::Arc<Self>) -> std::sync::Arc<$async> {
                $crate::forms::cast_arc(self)
            }
        }
    };
}

pub(crate) use two_forms;
