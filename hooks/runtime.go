package hooks

import "fmt"

// Runtime names as configuration, the registry, the admin API and the CLI spell them: AWS's
// own names for CloudFront Functions, and Verge's older "cloudfront-functions", kept as an
// alias of cloudfront-js-2.0 so stored records and configurations written before keep working.
const (
	RuntimeLambdaEdge          = "lambda-edge"
	RuntimeCloudFrontJS1       = "cloudfront-js-1.0"
	RuntimeCloudFrontJS2       = "cloudfront-js-2.0"
	RuntimeCloudFrontFunctions = "cloudfront-functions"
)

// RuntimeNames lists the accepted runtime names, for error messages and help texts.
const RuntimeNames = "lambda-edge, cloudfront-js-1.0, cloudfront-js-2.0 or cloudfront-functions (an alias of cloudfront-js-2.0)"

// CanonicalRuntime returns the canonical spelling of a runtime name: "" is lambda-edge and
// cloudfront-functions is cloudfront-js-2.0. Any other name is an error.
func CanonicalRuntime(name string) (string, error) {
	switch name {
	case "", RuntimeLambdaEdge:
		return RuntimeLambdaEdge, nil
	case RuntimeCloudFrontJS1, RuntimeCloudFrontJS2:
		return name, nil
	case RuntimeCloudFrontFunctions:
		return RuntimeCloudFrontJS2, nil
	}
	return "", fmt.Errorf("unknown runtime %q (want %s)", name, RuntimeNames)
}

// IsCloudFrontFunctions reports whether name (any accepted spelling) is a CloudFront
// Functions runtime.
func IsCloudFrontFunctions(name string) bool {
	switch name {
	case RuntimeCloudFrontJS1, RuntimeCloudFrontJS2, RuntimeCloudFrontFunctions:
		return true
	}
	return false
}

// DialectOf returns the dialect of a runtime name (any spelling; unknown names are LambdaEdge).
func DialectOf(runtime string) Dialect {
	if IsCloudFrontFunctions(runtime) {
		return CloudFrontFunctions
	}
	return LambdaEdge
}
