"""The HTTP adapter: authentication, authorization, request/response models, error translation.
Writes go to the workflows (setup writes straight to the domain); reads come from projections."""
