public enum SnuffelConfigPlaceholder {}
