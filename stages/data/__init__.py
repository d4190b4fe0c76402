"""Data stages: generate (or import), validate (the GX gate), split, and the teacher."""
