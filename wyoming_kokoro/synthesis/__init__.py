"""The synthesis service: admission, caches and scheduling between the front ends and the text
pipeline and engine. Front ends use :class:`~.service.SynthesisService` and nothing below it."""
