"""Teaching helpers: the Learn page's math (lesson), the playground's toy views, presets, the Apply experiment."""
