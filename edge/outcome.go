package edge

import "github.com/vergecdn/verge/hooks"

// outcome is how a request was answered: the word in X-Cache (CloudFront's) and the cache
// label of verge_http_requests_total.
type outcome uint8

const (
	outHit        outcome = iota
	outRefreshHit         // a stale object the origin validated with a 304 (CloudFront's RefreshHit)
	outStale              // a stale object, served while it is revalidated or because the origin failed
	outMiss
	outError        // the origin failed (502/504)
	outPass         // not cacheable by method; fetched from the origin
	outLambdaGen    // a Lambda@Edge (or Go) function generated the response
	outFunctionGen  // a CloudFront Function generated the response
	outLambdaValid  // LambdaValidationError
	outLambdaExec   // LambdaExecutionError
	outLambdaLimit  // LambdaLimitExceeded
	outFunctionVal  // FunctionValidationError
	outFunctionExec // FunctionExecutionError
	outFunctionThr  // FunctionThrottledError
	outBadRequest   // the viewer's request was refused before any work
	outRedirect     // redirected to HTTPS by the behavior's viewer protocol policy
	numOutcomes
)

var outcomeWords = [numOutcomes]string{
	outHit: "Hit", outRefreshHit: "RefreshHit", outStale: "StaleHit", outMiss: "Miss", outError: "Error", outPass: "Miss",
	outLambdaGen: "LambdaGeneratedResponse", outFunctionGen: "FunctionGeneratedResponse",
	outLambdaValid: "LambdaValidationError", outLambdaExec: "LambdaExecutionError",
	outLambdaLimit: "LambdaLimitExceeded", outFunctionVal: "FunctionValidationError",
	outFunctionExec: "FunctionExecutionError", outFunctionThr: "FunctionThrottledError",
	outBadRequest: "Error", outRedirect: "Redirect",
}

var outcomeLabels = [numOutcomes]string{
	outHit: "hit", outRefreshHit: "refresh_hit", outStale: "stale", outMiss: "miss", outError: "error", outPass: "pass",
	outLambdaGen: "generated", outFunctionGen: "generated",
	outLambdaValid: "function_error", outLambdaExec: "function_error", outLambdaLimit: "function_error",
	outFunctionVal: "function_error", outFunctionExec: "function_error", outFunctionThr: "function_error",
	outBadRequest: "error", outRedirect: "redirect",
}

func (o outcome) word() string  { return outcomeWords[o] }
func (o outcome) label() string { return outcomeLabels[o] }

// generatedOutcome is the outcome of a response a function of dialect d generated.
func generatedOutcome(d hooks.Dialect) outcome {
	if d == hooks.CloudFrontFunctions {
		return outFunctionGen
	}
	return outLambdaGen
}

// failureOutcome maps a function failure to its outcome, per CloudFront's table.
func failureOutcome(d hooks.Dialect, k hooks.Kind) outcome {
	switch d.ResultType(k) {
	case "LambdaValidationError":
		return outLambdaValid
	case "LambdaLimitExceeded":
		return outLambdaLimit
	case "FunctionValidationError":
		return outFunctionVal
	case "FunctionThrottledError":
		return outFunctionThr
	case "FunctionExecutionError":
		return outFunctionExec
	default:
		return outLambdaExec
	}
}
