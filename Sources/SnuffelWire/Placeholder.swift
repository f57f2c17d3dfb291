public enum SnuffelWirePlaceholder {}
